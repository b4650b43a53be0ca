// snapd 2.77's side of fixtures_test.go: the test helpers whose signatures changed since 2.57,
// and the cases only 2.74+ has (the prepare-serial-request hook) or 2.61+ (offline access).
package devicestate_test

import (
	"fmt"
	"strings"

	. "gopkg.in/check.v1"

	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/hookstate/ctlcmd"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
)

// mockFixtureGadget installs the gadget with a prepare-device hook, and a prepare-serial-request
// hook when serialHook is set; the hooks' behaviour is the suite's runHook.
func mockFixtureGadget(c *C, st *state.State, name string, revision snap.Revision, serialHook bool) {
	var serial *devicestatetest.PrepareSerialRequestBehavior
	if serialHook {
		serial = &devicestatetest.PrepareSerialRequestBehavior{}
	}
	devicestatetest.MockGadget(c, st, name, revision, &devicestatetest.PrepareDeviceBehavior{}, serial)()
}

// fixtureSnapctl runs snapctl inside a hook with snapd's own implementation.
func fixtureSnapctl(ctx *hookstate.Context, argv []string) ([]byte, error) {
	stdout, stderr, _, err := ctlcmd.Run(ctx, argv, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("%v (%s)", err, stderr)
	}
	return stdout, nil
}

// hardwareBody is what a prepare-serial-request hook sets: one JSON object, as snapd requires.
func hardwareBody(ctx *hookstate.Context, fields string) error {
	requestID, err := fixtureSnapctl(ctx, []string{"get", "registration.request-id"})
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(requestID)) == "" {
		return fmt.Errorf("snapd set no registration.request-id")
	}
	_, err = fixtureSnapctl(ctx, []string{"set", "registration.body=" + fields})
	return err
}

const fixtureHardwareFields = `{"hardware-id-key-sha384":"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4","request-id-signature":"MEUCIQDexampleonlyexampleonlyexampleonlyexampleonlyAiBexampleonly"}`

// 2.74+: the prepare-serial-request hook sets the body as one JSON object; serve signs it.
func (s *doctorFixtureSuite) TestRegisteredWithSerialHook(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.serialHook = func(ctx *hookstate.Context) error { return hardwareBody(ctx, fixtureHardwareFields) }
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	c.Assert(s.registration(c).Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))
	c.Assert(s.device(c).Serial, Equals, fixtureSerial)
	s.save(c, "registered-serial-hook")
}

// 2.74+: the hook left registration.body an object; the serial POST is answered 503 once, and
// the retry cannot read the body as the string it expects.
func (s *doctorFixtureSuite) TestSerialHookBodyLeftAnObject(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.busySerialPOSTs(1)
	s.AddCleanup(devicestate.MockRetryInterval(0))
	s.serialHook = func(ctx *hookstate.Context) error { return hardwareBody(ctx, fixtureHardwareFields) }
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.passUntil(c, func() bool {
		chg := s.registration(c)
		return chg != nil && chg.Status().Ready()
	})
	c.Assert(s.registration(c).Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "serial-hook-body-object")
}

// 2.74+: the hook sets a body without request-id-signature.
func (s *doctorFixtureSuite) TestSerialHookMissingField(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.serialHook = func(ctx *hookstate.Context) error {
		return hardwareBody(ctx, `{"hardware-id-key-sha384":"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4"}`)
	}
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	c.Assert(s.registration(c).Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "serial-hook-missing-field")
}

// 2.61+: the gadget says device-service.access=offline: snapd makes the key and asks for nothing.
func (s *doctorFixtureSuite) TestDeviceServiceOffline(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.hookSets = [][]string{{"set", "device-service.access=offline"}}
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	c.Assert(s.registration(c).Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))
	c.Assert(s.device(c).Serial, Equals, "")
	s.save(c, "device-service-offline")
}
