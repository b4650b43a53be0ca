// Secure onboarding against `snap-gadget serve`, driven by snapd 2.77's own DeviceManager with the
// gadget's own hooks run live.
//
// Copied beside snapd 2.77.1's overlord/devicestate tests (sid's source) and built with them. The
// gadget is one `snap-gadget init` made; snapd's hook manager runs its prepare-device and
// prepare-serial-request hooks as processes (sh, then $SNAP/usr/bin/qjs: QuickJS over a captured
// board), and their snapctl is a shim that asks this test over a Unix socket: every call goes
// through snapd's snapctl implementation (ctlcmd.Run) in the hook's own context, so `get
// registration.request-id` answers the nonce snapd just fetched and every set/unset is snapd's.
// serve takes the model by hardware identity. test/service/snapd-onboarding.test.ts builds and
// runs it.
//
// Input: $SNAP_GADGET_COMMAND (the command that runs snap-gadget, a JSON array) and
// $SNAP_GADGET_ONBOARDING, a JSON file (onboardingInput).
package devicestate_test

import (
	"bufio"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "gopkg.in/check.v1"
	"gopkg.in/tomb.v2"

	"github.com/snapcore/snapd/asserts"
	"github.com/snapcore/snapd/overlord/assertstate/assertstatetest"
	"github.com/snapcore/snapd/overlord/auth"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/hookstate/ctlcmd"
	"github.com/snapcore/snapd/overlord/snapstate"
	"github.com/snapcore/snapd/overlord/snapstate/snapstatetest"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
	"github.com/snapcore/snapd/snap/snaptest"
)

type onboardingInput struct {
	// Model: the headers of the gadget's model.json.
	Model map[string]interface{} `json:"model"`
	// BrandKey: PEM file of the brand's RSA-4096 private key (PKCS#8).
	BrandKey string `json:"brand-key"`
	// Tree: the gadget as a built snap tree (meta/hooks/, usr/bin/qjs, the runtime).
	Tree string `json:"tree"`
	// Shim: a directory whose snapctl forwards its argv to $SNAP_GADGET_SNAPCTL_SOCKET.
	Shim string `json:"shim"`
	// OtherBrandKey: PEM file (PKCS#8) of another brand's key, whose identities serve must refuse.
	OtherBrandKey string `json:"other-brand-key"`
}

type snapGadgetOnboardingSuite struct {
	deviceMgrBaseSuite

	input   onboardingInput
	command []string
	brand   string
	modelID string
	gadget  string

	serve    *snapGadgetServe
	snapDirs map[string]string
	hookRuns []string

	// tamper changes what the hooks see or set, for the negative cases: "nonce" answers
	// `get registration.request-id` with another nonce, "string-body" sets the body the hook
	// gives as a JSON string instead of an object.
	tamper string
}

var _ = Suite(&snapGadgetOnboardingSuite{})

func (s *snapGadgetOnboardingSuite) SetUpSuite(c *C) {
	data, err := os.ReadFile(os.Getenv("SNAP_GADGET_ONBOARDING"))
	c.Assert(err, IsNil, Commentf("$SNAP_GADGET_ONBOARDING must name the input file"))
	c.Assert(json.Unmarshal(data, &s.input), IsNil)
	c.Assert(json.Unmarshal([]byte(os.Getenv("SNAP_GADGET_COMMAND")), &s.command), IsNil)
	s.brand, _ = s.input.Model["brand-id"].(string)
	s.modelID, _ = s.input.Model["model"].(string)
	s.gadget, _ = s.input.Model["gadget"].(string)
	c.Assert(s.brand != "" && s.modelID != "" && s.gadget != "", Equals, true)
}

func (s *snapGadgetOnboardingSuite) SetUpTest(c *C) {
	s.setupBaseTest(c, false)
	s.tamper = ""
	s.hookRuns = nil
	key := readPKCS8(c, s.input.BrandKey)
	s.brands.Register(s.brand, asserts.RSAPrivateKey(key), map[string]interface{}{"validation": "verified"})
	s.brands.Register("other-brand", asserts.RSAPrivateKey(readPKCS8(c, s.input.OtherBrandKey)), map[string]interface{}{"validation": "verified"})
	s.snapDirs = map[string]string{}
	for _, name := range []string{"SNAP_DATA", "SNAP_SAVE_DATA", "SNAP_COMMON", "HOME"} {
		s.snapDirs[name] = c.MkDir()
	}
	s.startServe(c)
	s.AddCleanup(func() { s.serve.stop(c) })
}

func readPKCS8(c *C, file string) *rsa.PrivateKey {
	data, err := os.ReadFile(file)
	c.Assert(err, IsNil)
	block, _ := pem.Decode(data)
	c.Assert(block, NotNil, Commentf("%s holds no PEM block", file))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	c.Assert(err, IsNil)
	key, ok := parsed.(*rsa.PrivateKey)
	c.Assert(ok, Equals, true)
	return key
}

// --- serve --------------------------------------------------------------------------------------

func (s *snapGadgetOnboardingSuite) snapGadget(c *C, args ...string) string {
	cmd := exec.Command(s.command[0], append(append([]string{}, s.command[1:]...), args...)...)
	cmd.Dir = s.serve.dir
	out, err := cmd.CombinedOutput()
	c.Assert(err, IsNil, Commentf("snap-gadget %s: %s", strings.Join(args, " "), out))
	return string(out)
}

func (s *snapGadgetOnboardingSuite) startServe(c *C) {
	dir := c.MkDir()
	c.Assert(copyFile(s.input.BrandKey, filepath.Join(dir, "brand.pem"), 0600), IsNil)
	c.Assert(copyFile(s.input.OtherBrandKey, filepath.Join(dir, "other.pem"), 0600), IsNil)
	for name, a := range map[string]asserts.Assertion{
		"account.assert": s.brands.Account(s.brand), "account-key.assert": s.brands.AccountKey(s.brand),
		"other.account": s.brands.Account("other-brand"), "other.account-key": s.brands.AccountKey("other-brand"),
	} {
		c.Assert(os.WriteFile(filepath.Join(dir, name), asserts.Encode(a), 0644), IsNil)
	}
	brand, _ := json.Marshal(s.brand)
	model, _ := json.Marshal(s.modelID)
	// The other brand is a model of its own here, so serve holds its key and can check (and
	// refuse for this model) the identities it issues.
	config := fmt.Sprintf(`listen: 127.0.0.1:0
database: sqlite:serve.db
models:
  - brand: %s
    model: %s
    onboarding: hardware-identity
    signing-key: brand.pem
    chain: [account.assert, account-key.assert]
  - brand: other-brand
    model: other-model
    onboarding: hardware-identity
    signing-key: other.pem
    chain: [other.account, other.account-key]
`, brand, model)
	file := filepath.Join(dir, "serve.yaml")
	c.Assert(os.WriteFile(file, []byte(config), 0644), IsNil)

	s.serve = startSnapGadgetServe(c, s.command, dir, file)
}

// importIdentity (with the state locked) signs the device's export (what the factory station reads from $SNAP_COMMON) as
// `issuer` with its key and imports it into serve, as the factory line does.
func (s *snapGadgetOnboardingSuite) importIdentity(c *C, issuer, key string) {
	export := filepath.Join(s.snapDirs["SNAP_COMMON"], "hardware-identity.json")
	_, err := os.Stat(export)
	c.Assert(err, IsNil, Commentf("the prepare-device hook wrote no %s: %s", export, s.describe()))
	out := filepath.Join(s.serve.dir, issuer+"-identities.assert")
	// Called with the state locked; the factory's commands run outside it.
	s.state.Unlock()
	defer s.state.Lock()
	s.snapGadget(c, "hardware-identity", "sign", export, "--issuer", issuer, "--key", key, "--manufacturer", "Acme Devices", "--hardware-name", "acme-board", "--out", out)
	s.snapGadget(c, "serve", "import", "--config", s.serve.config, out)
}

// --- the device ---------------------------------------------------------------------------------

func (s *snapGadgetOnboardingSuite) setUpDevice(c *C) {
	st := s.state
	st.Lock()
	defer st.Unlock()
	extras := map[string]interface{}{}
	for k, v := range s.input.Model {
		switch k {
		case "type", "authority-id", "brand-id", "model", "series", "timestamp":
		default:
			extras[k] = v
		}
	}
	model := s.brands.Model(s.brand, s.modelID, extras)
	assertstatetest.AddMany(st, s.brands.AccountsAndKeys(s.brand)...)
	assertstatetest.AddMany(st, model)
	devicestatetest.SetDevice(st, &auth.DeviceState{Brand: s.brand, Model: s.modelID})
	// The gadget as its own snap.yaml declares it (its hooks and their plugs), each plug connected
	// as on a device whose gadget got its connections.
	snapYaml, err := os.ReadFile(filepath.Join(s.input.Tree, "meta", "snap.yaml"))
	c.Assert(err, IsNil)
	sideInfo := &snap.SideInfo{RealName: s.gadget, Revision: snap.R(1)}
	info := snaptest.MockSnap(c, string(snapYaml), sideInfo)
	c.Assert(info.SnapName(), Equals, s.gadget)
	snapstate.Set(st, s.gadget, &snapstate.SnapState{
		SnapType: "gadget",
		Active:   true,
		Sequence: snapstatetest.NewSequenceFromSnapSideInfos([]*snap.SideInfo{sideInfo}),
		Current:  sideInfo.Revision,
	})
	conns := map[string]interface{}{}
	for name, plug := range info.Plugs {
		conns[fmt.Sprintf("%s:%s snapd:%s", s.gadget, name, plug.Interface)] = map[string]interface{}{"interface": plug.Interface, "auto": true}
	}
	st.Set("conns", conns)
	s.AddCleanup(hookstate.MockRunHook(s.runHook))
	st.Set("seeded", true)
}

// runHook runs the gadget's hook as a process, as snapd does, with the snapctl shim on PATH.
func (s *snapGadgetOnboardingSuite) runHook(ctx *hookstate.Context, _ *tomb.Tomb) ([]byte, error) {
	name := ctx.HookName()
	s.hookRuns = append(s.hookRuns, name)
	hook := filepath.Join(s.input.Tree, "meta", "hooks", name)
	if _, err := os.Stat(hook); err != nil {
		return nil, fmt.Errorf("the gadget has no %s hook", name)
	}
	// A short path: a Unix socket's name has at most 107 bytes.
	sockDir, err := os.MkdirTemp("", "sg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(sockDir)
	socket := filepath.Join(sockDir, "snapctl")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return nil, err
	}
	defer listener.Close()
	go s.answerSnapctl(ctx, listener)

	cmd := exec.Command("sh", hook)
	cmd.Env = []string{
		"PATH=" + s.input.Shim + ":/usr/bin:/bin",
		"SNAP=" + s.input.Tree,
		"SNAP_NAME=" + s.gadget,
		"SNAP_REVISION=1",
		"SNAP_GADGET_SNAPCTL_SOCKET=" + socket,
	}
	for k, v := range s.snapDirs {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var output lockedOutput
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return []byte(output.String()), fmt.Errorf("%s hook failed: %v", name, err)
		}
		if name == "prepare-device" {
			// The hook points at the factory's service (init --device-service local, port 8642);
			// here that is the serve of this test, on the port it got.
			url, _ := json.Marshal(s.serve.url)
			if _, err := runSnapctl(ctx, []string{"set", "device-service.url=" + string(url)}); err != nil {
				return []byte(output.String()), err
			}
		}
		return []byte(output.String()), nil
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		return []byte(output.String()), fmt.Errorf("%s hook timed out", name)
	}
}

type snapctlCall struct {
	Args []string `json:"args"`
}

type snapctlAnswer struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// answerSnapctl serves the shim: each connection is one snapctl call, run by snapd's ctlcmd.
func (s *snapGadgetOnboardingSuite) answerSnapctl(ctx *hookstate.Context, listener net.Listener) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			return
		}
		func() {
			defer conn.Close()
			var call snapctlCall
			line, err := bufio.NewReader(io.LimitReader(conn, 1<<20)).ReadBytes('\n')
			if err != nil || json.Unmarshal(line, &call) != nil || len(call.Args) == 0 {
				json.NewEncoder(conn).Encode(snapctlAnswer{Stderr: "bad snapctl call", Code: 2})
				return
			}
			args := s.tampered(call.Args)
			stdout, stderr, _, err := ctlcmd.Run(ctx, args, 0, nil)
			answer := snapctlAnswer{Stdout: string(stdout), Stderr: string(stderr)}
			if s.tamper == "nonce" && len(args) == 2 && args[0] == "get" && args[1] == "registration.request-id" {
				answer.Stdout = "another-nonce-than-snapds\n"
			}
			var unsuccessful *ctlcmd.UnsuccessfulError
			if errors.As(err, &unsuccessful) {
				answer.Code = unsuccessful.ExitCode
			} else if err != nil {
				answer.Stderr += "error: " + err.Error() + "\n"
				answer.Code = 1
			}
			json.NewEncoder(conn).Encode(answer)
		}()
	}
}

func (s *snapGadgetOnboardingSuite) tampered(args []string) []string {
	if s.tamper != "string-body" || len(args) < 2 || args[0] != "set" {
		return args
	}
	out := append([]string{}, args...)
	for i, arg := range out {
		if value := strings.TrimPrefix(arg, "registration.body="); value != arg {
			quoted, _ := json.Marshal(value)
			out[i] = "registration.body=" + string(quoted)
		}
	}
	return out
}

func (s *snapGadgetOnboardingSuite) describe() string {
	return fmt.Sprintf("%shooks run: %v\nserve:\n%s", changesText(s.state), s.hookRuns, s.serve.output.String())
}

func (s *snapGadgetOnboardingSuite) settle(c *C) {
	settleState(c, s.state, s.o, s.describe)
}

// attempt lets snapd try to register now (again) and returns the attempt's change.
func (s *snapGadgetOnboardingSuite) attempt(c *C) *state.Change {
	devicestate.SetLastBecomeOperationalAttempt(s.mgr, time.Now().Add(-time.Hour))
	before := map[string]bool{}
	for _, chg := range s.state.Changes() {
		before[chg.ID()] = true
	}
	s.settle(c)
	for _, chg := range s.state.Changes() {
		if chg.Kind() == "become-operational" && !before[chg.ID()] {
			return chg
		}
	}
	c.Fatalf("no new registration attempt:\n%s", s.describe())
	return nil
}

func (s *snapGadgetOnboardingSuite) exported(c *C) map[string]interface{} {
	data, err := os.ReadFile(filepath.Join(s.snapDirs["SNAP_COMMON"], "hardware-identity.json"))
	c.Assert(err, IsNil)
	var export map[string]interface{}
	c.Assert(json.Unmarshal(data, &export), IsNil)
	return export
}

// --- the tests ----------------------------------------------------------------------------------

// The factory timeline: the first attempt comes before the station imported the identity and is
// refused with serve's message; the station signs and imports what the device exported; the next
// attempt (prepare-device again, which unsets the old body) registers, with the identity's
// hardware id as the serial and the hook's proof as its body.
func (s *snapGadgetOnboardingSuite) TestFirstBootBeforeImportThenRegisters(c *C) {
	s.setUpDevice(c)
	s.state.Lock()
	defer s.state.Unlock()

	first := s.attempt(c)
	c.Assert(first.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Check(first.Err(), ErrorMatches, `(?s).*hardware identity not imported yet.*`)
	c.Check(s.hookRuns, DeepEquals, []string{"prepare-device", "prepare-serial-request"})

	s.importIdentity(c, s.brand, "brand.pem")

	second := s.attempt(c)
	c.Assert(second.Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	export := s.exported(c)
	c.Check(device.Serial, Equals, export["hardware-id"])
	a, err := s.db.Find(asserts.SerialType, map[string]string{"brand-id": s.brand, "model": s.modelID, "serial": device.Serial})
	c.Assert(err, IsNil)
	serial := a.(*asserts.Serial)
	c.Check(s.db.Check(serial), IsNil)
	var body map[string]string
	c.Assert(json.Unmarshal(serial.Body(), &body), IsNil, Commentf("%s", serial.Body()))
	c.Check(body["hardware-id-key-sha3-384"], Equals, export["hardware-id-key-sha3-384"])
	c.Check(body["hardware-id-key-sha384"], Equals, export["hardware-id-key-sha3-384"])
	c.Check(body["request-id-signature"], Not(Equals), "")

	// What the station could also read: the gadget's hardware-identity option, set by the hook.
	var option interface{}
	tr := config.NewTransaction(s.state)
	c.Check(tr.Get(s.gadget, "hardware-identity", &option), IsNil)
}

// The identity imported before the production image boots (its key kept in ubuntu-save from an
// earlier factory image): the first attempt registers.
func (s *snapGadgetOnboardingSuite) TestImportedBeforeBootRegistersAtOnce(c *C) {
	s.setUpDevice(c)
	s.state.Lock()
	defer s.state.Unlock()
	// The earlier image: its prepare-device made the key and the export; it never registered.
	s.tamper = "nonce"
	first := s.attempt(c)
	c.Assert(first.Status(), Equals, state.ErrorStatus)
	s.importIdentity(c, s.brand, "brand.pem")

	// A fresh device state on the same ubuntu-save: the production image's first boot.
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Assert(devicestate.KeypairManager(s.mgr).Delete(device.KeyID), IsNil)
	devicestatetest.SetDevice(s.state, &auth.DeviceState{Brand: s.brand, Model: s.modelID})
	tr := config.NewTransaction(s.state)
	c.Assert(tr.Set(s.gadget, "registration", nil), IsNil)
	tr.Commit()
	s.tamper = ""
	chg := s.attempt(c)
	c.Assert(chg.Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))
}

func (s *snapGadgetOnboardingSuite) TestSignatureOverAnotherNonceIsRefused(c *C) {
	s.setUpDevice(c)
	s.state.Lock()
	defer s.state.Unlock()
	s.tamper = "nonce"
	s.attempt(c)
	s.importIdentity(c, s.brand, "brand.pem")
	chg := s.attempt(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Check(chg.Err(), ErrorMatches, `(?s).*cannot deliver device serial request: request-id-signature does not verify with the ecdsa-p256 key of hardware id .*the prepare-serial-request hook signs the UTF-8 bytes of the request-id.*`)
}

func (s *snapGadgetOnboardingSuite) TestIdentityOfAnotherBrandIsRefused(c *C) {
	s.setUpDevice(c)
	s.state.Lock()
	defer s.state.Unlock()
	s.attempt(c)
	s.importIdentity(c, "other-brand", "other.pem")
	chg := s.attempt(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Check(chg.Err(), ErrorMatches, `(?s).*cannot deliver device serial request: the hardware identity of key .* was issued by other-brand; .* accepts identities issued by .*: import the identity as the brand issued it.*`)
}

func (s *snapGadgetOnboardingSuite) TestAStringBodyFailsInSnapd(c *C) {
	s.setUpDevice(c)
	s.state.Lock()
	defer s.state.Unlock()
	s.tamper = "string-body"
	chg := s.attempt(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Check(chg.Err(), ErrorMatches, `(?s).*cannot unmarshal registration body as JSON.*`)
}

func copyFile(from, to string, mode os.FileMode) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, mode)
}
