// snapd 2.57's side of the helpers every suite built into the devicestate test binary shares
// (doctor's fixtures, re-registration): those whose signatures changed since.
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

// mockGadget installs the gadget with a prepare-device hook (2.57 knows no other registration
// hook); the hook's behaviour is the suite's runHook.
func mockGadget(c *C, st *state.State, name string, revision snap.Revision, serialHook bool) {
	c.Assert(serialHook, Equals, false, Commentf("snapd 2.57 has no prepare-serial-request hook"))
	devicestatetest.MockGadget(c, st, name, revision, &devicestatetest.PrepareDeviceBehavior{})()
}

// runSnapctl runs one snapctl call in the hook's context with snapd's own implementation.
func runSnapctl(ctx *hookstate.Context, argv []string) ([]byte, error) {
	stdout, stderr, err := ctlcmd.Run(ctx, argv, 0)
	if err != nil {
		return nil, fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
	}
	return stdout, nil
}
