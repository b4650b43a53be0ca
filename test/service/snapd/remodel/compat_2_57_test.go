// snapd 2.57's side of rereg_test.go: the test helpers whose signatures changed since.
package devicestate_test

import (
	"fmt"

	. "gopkg.in/check.v1"

	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/hookstate/ctlcmd"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
)

func reregMockGadget(c *C, st *state.State, name string) {
	devicestatetest.MockGadget(c, st, name, snap.R(1), &devicestatetest.PrepareDeviceBehavior{})()
}

func reregSnapctl(ctx *hookstate.Context, argv []string) error {
	if _, stderr, err := ctlcmd.Run(ctx, argv, 0); err != nil {
		return fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
	}
	return nil
}
