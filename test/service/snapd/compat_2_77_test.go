// snapd 2.77's side of the helpers every suite built into the devicestate test binary shares
// (doctor's fixtures, re-registration, onboarding): MockGadget takes the prepare-serial-request
// behaviour, ctlcmd.Run takes features and returns a change id.
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

// mockGadget installs the gadget with a prepare-device hook, and a prepare-serial-request hook
// when serialHook is set; the hooks' behaviour is the suite's runHook.
func mockGadget(c *C, st *state.State, name string, revision snap.Revision, serialHook bool) {
	var serial *devicestatetest.PrepareSerialRequestBehavior
	if serialHook {
		serial = &devicestatetest.PrepareSerialRequestBehavior{}
	}
	devicestatetest.MockGadget(c, st, name, revision, &devicestatetest.PrepareDeviceBehavior{}, serial)()
}

// runSnapctl runs one snapctl call in the hook's context with snapd's own implementation.
func runSnapctl(ctx *hookstate.Context, argv []string) ([]byte, error) {
	stdout, stderr, _, err := ctlcmd.Run(ctx, argv, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
	}
	return stdout, nil
}
