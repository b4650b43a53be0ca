// Re-registration on remodel against `snap-gadget serve`, driven by snapd's own DeviceManager.
//
// Copied beside snapd's overlord/devicestate tests (2.57.6 from Debian 12's source, 2.77.1 from
// sid's) with the compat file of that release, and built with them. A device registers as
// <brand>/acme-pc through serve (its prepare-device hook sets the service URL, the api-key and
// the proposed serial); then a remodel context to another model of the brand (snapd's
// reregRemodelContext: the same device key, the original gadget's settings, original-* headers,
// the stream serial-request, new model, original serial) runs snapd's request-serial task against
// the same serve, and the new serial must pass snapd's own checks and land in its database.
// test/service/snapd-remodel.test.ts builds and runs it.
//
// Input: $SNAP_GADGET_COMMAND (the command that runs snap-gadget, a JSON array) and
// $SNAP_GADGET_BRAND_KEY (a PEM file with the brand's RSA-4096 key, PKCS#8).
package devicestate_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "gopkg.in/check.v1"
	"gopkg.in/tomb.v2"

	"github.com/snapcore/snapd/asserts"
	"github.com/snapcore/snapd/overlord/assertstate/assertstatetest"
	"github.com/snapcore/snapd/overlord/auth"
	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/snapstate"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/overlord/storecontext"
	"github.com/snapcore/snapd/snap"
)

const (
	reregBrand     = "acme-rereg"
	reregOriginal  = "acme-pc"
	reregNew       = "acme-pc-v2"
	reregClosed    = "acme-kiosk"
	reregSerial    = "ACME-RR-0001"
	reregGadget    = "pc"
	reregAPIKey    = "rereg-original-api-key"
	reregAPIKeyEnv = "SNAP_GADGET_REREG_API_KEY"
)

type snapGadgetReregSuite struct {
	deviceMgrBaseSuite

	command  []string
	brandKey *rsa.PrivateKey
	serve    *snapGadgetServe
}

var _ = Suite(&snapGadgetReregSuite{})

func (s *snapGadgetReregSuite) SetUpSuite(c *C) {
	c.Assert(json.Unmarshal([]byte(os.Getenv("SNAP_GADGET_COMMAND")), &s.command), IsNil, Commentf("$SNAP_GADGET_COMMAND must be a JSON array"))
	c.Assert(len(s.command) > 0, Equals, true)
	data, err := os.ReadFile(os.Getenv("SNAP_GADGET_BRAND_KEY"))
	c.Assert(err, IsNil)
	block, _ := pem.Decode(data)
	c.Assert(block, NotNil)
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	c.Assert(err, IsNil)
	s.brandKey = parsed.(*rsa.PrivateKey)
}

func (s *snapGadgetReregSuite) SetUpTest(c *C) {
	s.setupBaseTest(c, false)
	s.brands.Register(reregBrand, asserts.RSAPrivateKey(s.brandKey), map[string]interface{}{"validation": "verified"})
	s.startServe(c)
	s.AddCleanup(func() { s.serve.stop(c) })
}

// startServe runs serve with three models of the brand: the original, one that takes its devices
// on a remodel (remodel-from) and one that does not.
func (s *snapGadgetReregSuite) startServe(c *C) {
	dir := c.MkDir()
	der, err := x509.MarshalPKCS8PrivateKey(s.brandKey)
	c.Assert(err, IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "brand.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0600), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "account.assert"), asserts.Encode(s.brands.Account(reregBrand)), 0644), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "account-key.assert"), asserts.Encode(s.brands.AccountKey(reregBrand)), 0644), IsNil)
	// One api-key per model: the device keeps sending the original gadget's.
	entry := func(model, apiKeyEnv, extra string) string {
		return fmt.Sprintf("  - {brand: %s, model: %s, api-key: {env: %s}, signing-key: brand.pem, chain: [account.assert, account-key.assert]%s}\n", reregBrand, model, apiKeyEnv, extra)
	}
	config := "listen: 127.0.0.1:0\ndatabase: sqlite:serve.db\nmodels:\n" +
		entry(reregOriginal, reregAPIKeyEnv, "") +
		entry(reregNew, reregAPIKeyEnv+"_NEW", fmt.Sprintf(", remodel-from: [%s/%s]", reregBrand, reregOriginal)) +
		entry(reregClosed, reregAPIKeyEnv+"_CLOSED", "")
	file := filepath.Join(dir, "serve.yaml")
	c.Assert(os.WriteFile(file, []byte(config), 0644), IsNil)

	s.serve = startSnapGadgetServe(c, s.command, dir, file, reregAPIKeyEnv+"="+reregAPIKey, reregAPIKeyEnv+"_NEW=rereg-new-api-key", reregAPIKeyEnv+"_CLOSED=rereg-closed-api-key")
}

func (s *snapGadgetReregSuite) model(name string) *asserts.Model {
	return s.brands.Model(reregBrand, name, map[string]interface{}{"architecture": "amd64", "kernel": "pc-kernel", "gadget": reregGadget})
}

// prepareDevice is the original gadget's prepare-device hook, run through snapd's snapctl.
func (s *snapGadgetReregSuite) prepareDevice(ctx *hookstate.Context, _ *tomb.Tomb) ([]byte, error) {
	if ctx.HookName() != "prepare-device" {
		return nil, fmt.Errorf("unexpected hook %q", ctx.HookName())
	}
	url, _ := json.Marshal(s.serve.url)
	for _, argv := range [][]string{
		{"set", "device-service.url=" + string(url)},
		{"set", fmt.Sprintf(`device-service.headers={"api-key": %q}`, reregAPIKey)},
		{"set", "registration.proposed-serial=" + reregSerial},
	} {
		if _, err := runSnapctl(ctx, argv); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *snapGadgetReregSuite) describe() string {
	return fmt.Sprintf("%sserve:\n%s", changesText(s.state), s.serve.output.String())
}

func (s *snapGadgetReregSuite) settle(c *C) {
	settleState(c, s.state, s.o, s.describe)
}

// registered registers the device as the original model through serve (called with the state locked).
func (s *snapGadgetReregSuite) registered(c *C) *auth.DeviceState {
	assertstatetest.AddMany(s.state, s.brands.AccountsAndKeys(reregBrand)...)
	assertstatetest.AddMany(s.state, s.model(reregOriginal))
	devicestatetest.SetDevice(s.state, &auth.DeviceState{Brand: reregBrand, Model: reregOriginal})
	mockGadget(c, s.state, reregGadget, snap.R(1), false)
	s.AddCleanup(hookstate.MockRunHook(s.prepareDevice))
	s.state.Set("seeded", true)
	s.settle(c)
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Assert(device.Serial, Equals, reregSerial, Commentf("%s", s.describe()))
	return device
}

// remodel runs snapd's request-serial task in a re-registration remodel context to model `to`.
func (s *snapGadgetReregSuite) remodel(c *C, to string) (*state.Change, *asserts.Model) {
	cur, err := s.mgr.Model()
	c.Assert(err, IsNil)
	newModel := s.model(to)
	// The remodel context opens a store for the new model; registration never calls it.
	s.newFakeStore = func(storecontext.DeviceBackend) snapstate.StoreService { return nil }
	remodCtx, err := devicestate.RemodelCtx(s.state, cur, newModel)
	c.Assert(err, IsNil)
	c.Assert(remodCtx.Kind(), Equals, devicestate.ReregRemodel)
	chg := s.state.NewChange("remodel", "re-registration")
	t := s.state.NewTask("request-serial", "Request new device serial")
	remodCtx.Init(chg)
	chg.AddTask(t)
	s.settle(c)
	return chg, newModel
}

func (s *snapGadgetReregSuite) TestReregistrationGetsTheNewModelsSerial(c *C) {
	s.state.Lock()
	defer s.state.Unlock()
	device := s.registered(c)

	chg, _ := s.remodel(c, reregNew)
	c.Assert(chg.Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))

	// The new model's serial, the same number (remodel-serial: keep), the same device key, its
	// chain checked to the store root the device trusts; the original serial stays.
	a, err := s.db.Find(asserts.SerialType, map[string]string{"brand-id": reregBrand, "model": reregNew, "serial": reregSerial})
	c.Assert(err, IsNil, Commentf("%s", s.describe()))
	serial := a.(*asserts.Serial)
	c.Check(serial.DeviceKey().ID(), Equals, device.KeyID)
	c.Check(serial.AuthorityID(), Equals, reregBrand)
	c.Check(s.db.Check(serial), IsNil)
	_, err = s.db.Find(asserts.SerialType, map[string]string{"brand-id": reregBrand, "model": reregOriginal, "serial": reregSerial})
	c.Check(err, IsNil)
	// serve's request log says where the device came from (written as the answer ends).
	logged := func() bool {
		return strings.Contains(s.serve.output.String(), `"remodelledFrom":{"brand":"`+reregBrand+`","model":"`+reregOriginal+`"`)
	}
	for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	c.Check(logged(), Equals, true, Commentf("serve's log: %s", s.serve.output.String()))
}

func (s *snapGadgetReregSuite) TestReregistrationToAModelThatDoesNotTakeItFailsWithServesMessage(c *C) {
	s.state.Lock()
	defer s.state.Unlock()
	s.registered(c)

	chg, _ := s.remodel(c, reregClosed)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Check(chg.Err(), ErrorMatches, `(?s).*does not take devices remodelled from "acme-rereg/acme-pc".*remodel-from.*`)
}
