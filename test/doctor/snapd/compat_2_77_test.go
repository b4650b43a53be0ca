// The fixture cases only snapd 2.77 builds: 2.74+'s prepare-serial-request hook and 2.61+'s
// offline access (the helpers whose signatures changed are test/service/snapd/compat_*_test.go).
package devicestate_test

import (
	"fmt"
	"strings"

	. "gopkg.in/check.v1"

	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/state"
)

// hardwareBody is what a prepare-serial-request hook sets: one JSON object, as snapd requires.
func hardwareBody(ctx *hookstate.Context, fields string) error {
	requestID, err := runSnapctl(ctx, []string{"get", "registration.request-id"})
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(requestID)) == "" {
		return fmt.Errorf("snapd set no registration.request-id")
	}
	_, err = runSnapctl(ctx, []string{"set", "registration.body=" + fields})
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
