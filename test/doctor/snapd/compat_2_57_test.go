// snapd 2.57's side of fixtures_test.go: the test helpers whose signatures changed since.
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

// mockFixtureGadget installs the gadget with a prepare-device hook (2.57 knows no other
// registration hook); the hook's behaviour is the suite's runHook.
func mockFixtureGadget(c *C, st *state.State, name string, revision snap.Revision, serialHook bool) {
	c.Assert(serialHook, Equals, false, Commentf("snapd 2.57 has no prepare-serial-request hook"))
	devicestatetest.MockGadget(c, st, name, revision, &devicestatetest.PrepareDeviceBehavior{})()
}

// fixtureSnapctl runs snapctl inside a hook with snapd's own implementation.
func fixtureSnapctl(ctx *hookstate.Context, argv []string) ([]byte, error) {
	stdout, stderr, err := ctlcmd.Run(ctx, argv, 0)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, stderr)
	}
	return stdout, nil
}
