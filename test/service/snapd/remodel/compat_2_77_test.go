// snapd 2.77's side of rereg_test.go: MockGadget takes the prepare-serial-request behaviour (none
// here: the gadget has only prepare-device), ctlcmd.Run takes features and returns a change id.
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
	devicestatetest.MockGadget(c, st, name, snap.R(1), &devicestatetest.PrepareDeviceBehavior{}, nil)()
}

func reregSnapctl(ctx *hookstate.Context, argv []string) error {
	if _, stderr, _, err := ctlcmd.Run(ctx, argv, 0, nil); err != nil {
		return fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
	}
	return nil
}
