// Registration against `snap-gadget serve`, driven by snapd's own DeviceManager.
//
// This file is copied beside snapd 2.57.6's overlord/devicestate tests (Debian's
// golang-github-snapcore-snapd-dev) and built with them, so it reuses their suite: the overlord,
// the state engine, the store's test root key and the brand accounts it signs. The device runs
// the real registration state machine (prepare-device hook, device key, request-id, serial-request,
// snapd's checks of the serial and of its signing chain) against a `snap-gadget serve` process
// on 127.0.0.1. test/service/snapd-registration.test.ts builds and runs it.
//
// Its input, the JSON file named by $SNAP_GADGET_REGISTRATION, comes from an example gadget made
// by `snap-gadget init`: the snapctl calls its prepare-device hook made (replayed here through
// snapd's own snapctl implementation), the model it describes, the brand's RSA key and the
// api-key. $SNAP_GADGET_COMMAND is the command that runs snap-gadget, as a JSON array.
package devicestate_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	. "gopkg.in/check.v1"
	"gopkg.in/tomb.v2"

	"github.com/snapcore/snapd/asserts"
	"github.com/snapcore/snapd/asserts/sysdb"
	"github.com/snapcore/snapd/httputil"
	"github.com/snapcore/snapd/overlord/assertstate"
	"github.com/snapcore/snapd/overlord/assertstate/assertstatetest"
	"github.com/snapcore/snapd/overlord/auth"
	"github.com/snapcore/snapd/overlord/configstate"
	"github.com/snapcore/snapd/overlord/configstate/config"
	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/hookstate/ctlcmd"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
)

// gadgetRegistration is what the Node side hands over (see snapd-registration.test.ts).
type gadgetRegistration struct {
	// Model: the headers of the gadget's model.json (UC16/UC18 form).
	Model map[string]interface{} `json:"model"`
	// BrandKey: PEM file of the brand's RSA-4096 private key (PKCS#8).
	BrandKey string `json:"brand-key"`
	APIKey   string `json:"api-key"`
	// LabURL: the device-service URL the hook must set; its host and port are swapped for serve's.
	LabURL string `json:"lab-url"`
	// Snapctl: every `snapctl set`/`unset` the hook ran, argv without "snapctl".
	Snapctl [][]string `json:"snapctl"`
	// ProposedSerial and Body: the values the hook set, decoded on the Node side.
	ProposedSerial string `json:"proposed-serial"`
	Body           string `json:"body"`
}

const (
	serveAPIKeyEnv   = "SNAP_GADGET_TEST_API_KEY"
	downPassesBudget = 40
)

type snapGadgetServeSuite struct {
	deviceMgrBaseSuite

	input    gadgetRegistration
	command  []string
	brandKey *rsa.PrivateKey
	brand    string
	modelID  string
	gadget   string

	// set by each test before the hook runs
	serviceURL   string
	hookSetsMore [][]string

	workDir string
	serves  []*snapGadgetServe
}

var _ = Suite(&snapGadgetServeSuite{})

func (s *snapGadgetServeSuite) SetUpSuite(c *C) {
	inputFile := os.Getenv("SNAP_GADGET_REGISTRATION")
	c.Assert(inputFile, Not(Equals), "", Commentf("$SNAP_GADGET_REGISTRATION must name the registration input file"))
	data := readBounded(c, inputFile, 4<<20)
	c.Assert(json.Unmarshal(data, &s.input), IsNil)
	c.Assert(json.Unmarshal([]byte(os.Getenv("SNAP_GADGET_COMMAND")), &s.command), IsNil, Commentf("$SNAP_GADGET_COMMAND must be a JSON array"))
	c.Assert(len(s.command) > 0, Equals, true)

	block, _ := pem.Decode(readBounded(c, s.input.BrandKey, 64<<10))
	c.Assert(block, NotNil, Commentf("%s holds no PEM block", s.input.BrandKey))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	c.Assert(err, IsNil)
	key, ok := parsed.(*rsa.PrivateKey)
	c.Assert(ok, Equals, true, Commentf("the brand key must be RSA"))
	c.Assert(key.N.BitLen(), Equals, 4096)
	s.brandKey = key

	s.brand, _ = s.input.Model["brand-id"].(string)
	s.modelID, _ = s.input.Model["model"].(string)
	s.gadget, _ = s.input.Model["gadget"].(string)
	c.Assert(s.brand != "" && s.modelID != "" && s.gadget != "", Equals, true, Commentf("model.json needs brand-id, model and gadget"))
}

func (s *snapGadgetServeSuite) SetUpTest(c *C) {
	s.setupBaseTest(c, false)
	s.serviceURL = ""
	s.hookSetsMore = nil
	s.serves = nil
	s.workDir = c.MkDir()

	// The brand, registered with this test's store root: its account and account-key are the
	// chain serve returns, and the device trusts only that root.
	s.brands.Register(s.brand, asserts.RSAPrivateKey(s.brandKey), map[string]interface{}{"validation": "verified"})

	s.AddCleanup(func() {
		for _, p := range s.serves {
			p.stop(c)
		}
	})
}

// --- the device ---------------------------------------------------------------------------------

// setUpDevice puts the brand's model named modelName in state (the gadget's model.json headers),
// the gadget with its prepare-device hook, and marks the system seeded: the next settle registers.
func (s *snapGadgetServeSuite) setUpDevice(c *C, modelName string) *asserts.Model {
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
	model := s.brands.Model(s.brand, modelName, extras)
	assertstatetest.AddMany(st, s.brands.AccountsAndKeys(s.brand)...)
	assertstatetest.AddMany(st, model)
	devicestatetest.SetDevice(st, &auth.DeviceState{Brand: s.brand, Model: modelName})

	// MockGadget writes a snap.yaml with the prepare-device hook; its own hook mock is replaced
	// by the replay of the generated hook's snapctl calls.
	devicestatetest.MockGadget(c, st, s.gadget, snap.R(1), &devicestatetest.PrepareDeviceBehavior{})()
	s.AddCleanup(hookstate.MockRunHook(s.replayPrepareDevice))

	st.Set("seeded", true)
	return model
}

// replayPrepareDevice runs the generated hook's snapctl calls through snapd's snapctl
// implementation (ctlcmd: its parsing and typing of every value), checks that the hook pointed
// at the lab preset, then points the device at the serve under test.
func (s *snapGadgetServeSuite) replayPrepareDevice(ctx *hookstate.Context, _ *tomb.Tomb) ([]byte, error) {
	if ctx.HookName() != "prepare-device" {
		return nil, fmt.Errorf("unexpected hook %q", ctx.HookName())
	}
	run := func(argv []string) error {
		_, stderr, err := ctlcmd.Run(ctx, argv, 0)
		if err != nil {
			return fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
		}
		return nil
	}
	for _, argv := range s.input.Snapctl {
		if err := run(argv); err != nil {
			return nil, err
		}
	}
	stdout, _, err := ctlcmd.Run(ctx, []string{"get", "device-service.url"}, 0)
	if err != nil {
		return nil, err
	}
	if got := strings.TrimSpace(string(stdout)); got != s.input.LabURL {
		return nil, fmt.Errorf("the hook set device-service.url %q, not the lab preset %q", got, s.input.LabURL)
	}
	if s.serviceURL == "" {
		return nil, fmt.Errorf("internal error: the test set no service URL")
	}
	quoted, _ := json.Marshal(s.serviceURL)
	if err := run([]string{"set", "device-service.url=" + string(quoted)}); err != nil {
		return nil, err
	}
	for _, argv := range s.hookSetsMore {
		if err := run(argv); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// useService points the device at base's host and port with the lab preset's path.
func (s *snapGadgetServeSuite) useService(c *C, base string) {
	lab, err := url.Parse(s.input.LabURL)
	c.Assert(err, IsNil)
	served, err := url.Parse(base)
	c.Assert(err, IsNil)
	c.Assert(served.Path, Equals, lab.Path, Commentf("serve answers on %s, the hook's preset is %s", base, s.input.LabURL))
	lab.Host = served.Host
	s.serviceURL = lab.String()
}

// newDevice makes the device another one, with no key and no serial, that may register at once.
// The first device's key goes: with it, snapd would restore the first serial (its factory-reset
// path) instead of registering.
func (s *snapGadgetServeSuite) newDevice(c *C) {
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Assert(devicestate.KeypairManager(s.mgr).Delete(device.KeyID), IsNil)
	devicestatetest.SetDevice(s.state, &auth.DeviceState{Brand: device.Brand, Model: device.Model})
	devicestate.SetLastBecomeOperationalAttempt(s.mgr, time.Now().Add(-time.Hour))
}

// settleUnlocked lets the state engine run until nothing is left to do (called with the state
// locked); on failure it shows every change's tasks and logs, and what serve printed.
func (s *snapGadgetServeSuite) settleUnlocked(c *C) {
	s.state.Unlock()
	err := s.o.Settle(settleTimeout)
	s.state.Lock()
	c.Assert(err, IsNil, Commentf("%s", s.describeChanges()))
}

func (s *snapGadgetServeSuite) describeChanges() string {
	var out strings.Builder
	for _, chg := range s.state.Changes() {
		fmt.Fprintf(&out, "change %s %s: %s\n", chg.ID(), chg.Kind(), chg.Status())
		for _, t := range chg.Tasks() {
			fmt.Fprintf(&out, "  task %s: %s\n    %s\n", t.Kind(), t.Status(), strings.Join(t.Log(), "\n    "))
		}
	}
	fmt.Fprintf(&out, "serve:\n%s", s.serveLogs())
	return out.String()
}

// latestRegistration returns the newest become-operational change not in before, or nil.
func (s *snapGadgetServeSuite) latestRegistration(before ...*state.Change) *state.Change {
	var newest *state.Change
	newestID := -1
	for _, chg := range s.state.Changes() {
		if chg.Kind() != "become-operational" {
			continue
		}
		seen := false
		for _, b := range before {
			seen = seen || b.ID() == chg.ID()
		}
		// Change ids count up from 1.
		id, err := strconv.Atoi(chg.ID())
		if !seen && err == nil && id > newestID {
			newest, newestID = chg, id
		}
	}
	return newest
}

func (s *snapGadgetServeSuite) registration(c *C, before ...*state.Change) *state.Change {
	chg := s.latestRegistration(before...)
	c.Assert(chg, NotNil, Commentf("no new become-operational change:\n%s", s.describeChanges()))
	return chg
}

func taskLog(chg *state.Change, kind string) string {
	for _, t := range chg.Tasks() {
		if t.Kind() == kind {
			return strings.Join(t.Log(), "\n")
		}
	}
	return ""
}

// checkRegistered checks with snapd's state that the device has the serial the hook proposed,
// signed by the brand over the body the hook built, for its own key.
func (s *snapGadgetServeSuite) checkRegistered(c *C, chg *state.Change, modelName, serialNumber string) *asserts.Serial {
	c.Assert(chg.Status().Ready(), Equals, true)
	c.Assert(chg.Err(), IsNil, Commentf("serve said: %s", s.serveLogs()))

	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Check(device.Brand, Equals, s.brand)
	c.Check(device.Model, Equals, modelName)
	c.Check(device.Serial, Equals, serialNumber)

	a, err := s.db.Find(asserts.SerialType, map[string]string{"brand-id": s.brand, "model": modelName, "serial": serialNumber})
	c.Assert(err, IsNil)
	serial := a.(*asserts.Serial)
	c.Check(serial.AuthorityID(), Equals, s.brand)
	c.Check(serial.SignKeyID(), Equals, s.brands.AccountKey(s.brand).PublicKeyID())
	c.Check(string(serial.Body()), Equals, s.input.Body)
	c.Check(serial.DeviceKey().ID(), Equals, device.KeyID)
	privKey, err := devicestate.KeypairManager(s.mgr).Get(device.KeyID)
	c.Assert(err, IsNil)
	c.Check(privKey.PublicKey().ID(), Equals, serial.DeviceKey().ID())
	// The chain came with the serial and checks against the test root the device trusts.
	c.Check(s.db.Check(serial), IsNil)
	return serial
}

// --- the service --------------------------------------------------------------------------------

// writeServeConfig writes the brand key, its chain and a serve config serving the gadget's model
// into a new directory; returns the config file.
func (s *snapGadgetServeSuite) writeServeConfig(c *C, listen string) string {
	dir, err := os.MkdirTemp(s.workDir, "serve-")
	c.Assert(err, IsNil)
	der, err := x509.MarshalPKCS8PrivateKey(s.brandKey)
	c.Assert(err, IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "brand.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0600), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "account.assert"), encodeAssertion(s.brands.Account(s.brand)), 0644), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "account-key.assert"), encodeAssertion(s.brands.AccountKey(s.brand)), 0644), IsNil)
	brand, _ := json.Marshal(s.brand)
	model, _ := json.Marshal(s.modelID)
	config := fmt.Sprintf(`listen: %s
database: sqlite:serve.db
models:
  - brand: %s
    model: %s
    api-key: {env: %s}
    signing-key: brand.pem
    chain: [account.assert, account-key.assert]
`, listen, brand, model, serveAPIKeyEnv)
	file := filepath.Join(dir, "serve.yaml")
	c.Assert(os.WriteFile(file, []byte(config), 0644), IsNil)
	return file
}

// startServe runs `snap-gadget serve --config FILE --json` in the config's directory (the shared
// starter, serve_process_test.go) and checks it listens on loopback.
func (s *snapGadgetServeSuite) startServe(c *C, configFile string) *snapGadgetServe {
	p := startSnapGadgetServe(c, s.command, filepath.Dir(configFile), configFile, serveAPIKeyEnv+"="+s.input.APIKey)
	s.serves = append(s.serves, p)
	c.Assert(strings.HasPrefix(p.url, "http://127.0.0.1:"), Equals, true, Commentf("url %q", p.url))
	return p
}

func (s *snapGadgetServeSuite) serveLogs() string {
	var logs []string
	for _, p := range s.serves {
		logs = append(logs, p.output.String())
	}
	return strings.Join(logs, "\n---\n")
}

func (s *snapGadgetServeSuite) startServing(c *C) *snapGadgetServe {
	p := s.startServe(c, s.writeServeConfig(c, "127.0.0.1:0"))
	s.useService(c, p.url)
	return p
}

// requestIDTap wraps snapd's own HTTP client: it records the request-ids serve hands out and,
// when replay is set, gives snapd that one instead.
type requestIDTap struct {
	base   http.RoundTripper
	mu     sync.Mutex
	issued []string
	replay string
}

func (t *requestIDTap) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/request-id") || resp.StatusCode != 200 {
		return resp, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var answer struct {
		RequestID string `json:"request-id"`
	}
	if err := json.Unmarshal(data, &answer); err == nil {
		t.mu.Lock()
		t.issued = append(t.issued, answer.RequestID)
		if t.replay != "" {
			data, _ = json.Marshal(map[string]string{"request-id": t.replay})
		}
		t.mu.Unlock()
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (s *snapGadgetServeSuite) tapRequestIDs() *requestIDTap {
	tap := &requestIDTap{}
	s.AddCleanup(devicestate.MockHttputilNewHTTPClient(func(opts *httputil.ClientOptions) *http.Client {
		client := httputil.NewHTTPClient(opts)
		tap.base = client.Transport
		client.Transport = tap
		return client
	}))
	return tap
}

// encodeAssertion is an assertion as `snap known` prints it: ending with a newline.
func encodeAssertion(a asserts.Assertion) []byte {
	return append(asserts.Encode(a), '\n')
}

func readBounded(c *C, file string, limit int64) []byte {
	f, err := os.Open(file)
	c.Assert(err, IsNil)
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	c.Assert(err, IsNil)
	c.Assert(int64(len(data)) <= limit, Equals, true, Commentf("%s is larger than %d bytes", file, limit))
	return data
}

// --- the tests ----------------------------------------------------------------------------------

func (s *snapGadgetServeSuite) TestRegistersWithTheHooksValues(c *C) {
	s.startServing(c)
	s.setUpDevice(c, s.modelID)

	s.state.Lock()
	defer s.state.Unlock()
	s.settleUnlocked(c)

	chg := s.registration(c)
	// The gadget config as snapd decoded it from the hook's snapctl calls.
	tr := config.NewTransaction(s.state)
	var body, proposed string
	var headers map[string]string
	c.Assert(tr.Get(s.gadget, "registration.body", &body), IsNil)
	c.Assert(tr.Get(s.gadget, "registration.proposed-serial", &proposed), IsNil)
	c.Assert(tr.Get(s.gadget, "device-service.headers", &headers), IsNil)
	c.Check(body, Equals, s.input.Body)
	c.Check(proposed, Equals, s.input.ProposedSerial)
	c.Check(headers["api-key"], Equals, s.input.APIKey)

	serial := s.checkRegistered(c, chg, s.modelID, s.input.ProposedSerial)
	c.Check(serial.Revision(), Equals, 0)

	select {
	case <-s.mgr.Registered():
	case <-time.After(5 * time.Second):
		c.Fatal("the device manager did not mark the device registered")
	}
}

func (s *snapGadgetServeSuite) TestWrongAPIKeyFailsWithTheServicesMessage(c *C) {
	s.startServing(c)
	s.setUpDevice(c, s.modelID)
	s.hookSetsMore = [][]string{{"set", `device-service.headers={"api-key":"not-the-key"}`}}

	s.state.Lock()
	defer s.state.Unlock()
	s.settleUnlocked(c)

	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus)
	log := taskLog(chg, "request-serial")
	c.Logf("request-serial's log: %s", log)
	// snapd shows the service's message only for exactly application/json with a message.
	c.Check(log, Matches, `(?s).*ERROR cannot retrieve request-id for making a request for a serial: .+`)
	c.Check(log, Not(Matches), `(?s).*unexpected status.*`)
	c.Check(log, Matches, `(?is).*api.key.*`)
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Check(device.Serial, Equals, "")
}

func (s *snapGadgetServeSuite) TestUnknownModelIsRefused(c *C) {
	unserved := s.modelID + "-unserved"
	s.startServing(c)
	s.setUpDevice(c, unserved)

	s.state.Lock()
	defer s.state.Unlock()
	s.settleUnlocked(c)

	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus)
	log := taskLog(chg, "request-serial")
	c.Logf("request-serial's log: %s", log)
	c.Check(log, Matches, `(?s).*ERROR cannot deliver device serial request: .+`)
	c.Check(log, Not(Matches), `(?s).*unexpected status.*`)
	c.Check(log, Matches, `(?s).*`+regexp.QuoteMeta(unserved)+`.*`)
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Check(device.Serial, Equals, "")
}

func (s *snapGadgetServeSuite) TestSecondDeviceCannotTakeAnIssuedSerial(c *C) {
	s.startServing(c)
	s.setUpDevice(c, s.modelID)

	s.state.Lock()
	defer s.state.Unlock()
	s.settleUnlocked(c)
	first := s.registration(c)
	firstSerial := s.checkRegistered(c, first, s.modelID, s.input.ProposedSerial)

	// Another device (its own key) whose hook proposes the same serial.
	s.newDevice(c)
	s.settleUnlocked(c)

	second := s.registration(c, first)
	c.Assert(second.Status(), Equals, state.ErrorStatus)
	log := taskLog(second, "request-serial")
	c.Logf("request-serial's log: %s", log)
	c.Check(log, Matches, `(?s).*ERROR cannot deliver device serial request: .+`)
	c.Check(log, Not(Matches), `(?s).*unexpected status.*`)
	c.Check(log, Matches, `(?s).*`+regexp.QuoteMeta(s.input.ProposedSerial)+`.*`)
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	c.Check(device.Serial, Equals, "")
	c.Check(device.KeyID, Not(Equals), firstSerial.DeviceKey().ID())
}

func (s *snapGadgetServeSuite) TestRequestIDIsSingleUse(c *C) {
	tap := s.tapRequestIDs()
	s.startServing(c)
	s.setUpDevice(c, s.modelID)

	s.state.Lock()
	defer s.state.Unlock()
	s.settleUnlocked(c)
	first := s.registration(c)
	s.checkRegistered(c, first, s.modelID, s.input.ProposedSerial)
	c.Assert(tap.issued, HasLen, 1)

	// A new device with a serial of its own is given the request-id the first one used.
	other := s.input.ProposedSerial + "-2"
	quoted, _ := json.Marshal(other)
	s.hookSetsMore = [][]string{{"set", "registration.proposed-serial=" + string(quoted)}}
	tap.replay = tap.issued[0]
	s.newDevice(c)
	s.settleUnlocked(c)

	replayed := s.registration(c, first)
	c.Assert(replayed.Status(), Equals, state.ErrorStatus)
	log := taskLog(replayed, "request-serial")
	c.Logf("request-serial's log: %s", log)
	c.Check(log, Matches, `(?s).*ERROR cannot deliver device serial request: .+`)
	c.Check(log, Not(Matches), `(?s).*unexpected status.*`)
	c.Check(log, Matches, `(?is).*(request.id|nonce).*`)

	// The same device with a fresh request-id registers: the replayed id was the only fault.
	tap.replay = ""
	devicestate.SetLastBecomeOperationalAttempt(s.mgr, time.Now().Add(-time.Hour))
	s.settleUnlocked(c)
	s.checkRegistered(c, s.registration(c, first, replayed), s.modelID, other)
}

func (s *snapGadgetServeSuite) TestServiceDownThenUpRegisters(c *C) {
	// Immediate in-task retries, so that passes of the state engine stand for snapd's 60 s waits.
	s.AddCleanup(devicestate.MockRetryInterval(0))

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	c.Assert(err, IsNil)
	address := listener.Addr().String()
	listener.Close()
	s.useService(c, "http://"+address+"/v1/")
	s.setUpDevice(c, s.modelID)

	// Nothing listens yet: snapd keeps the change going and logs each refused connection.
	s.state.Lock()
	defer s.state.Unlock()
	refused := 0
	var chg *state.Change
	for pass := 0; pass < downPassesBudget && refused < 2; pass++ {
		s.state.Unlock()
		s.se.Ensure()
		s.se.Wait()
		s.state.Lock()
		if chg = s.latestRegistration(); chg != nil {
			refused = strings.Count(taskLog(chg, "request-serial"), "connection refused")
		}
	}
	c.Assert(chg, NotNil)
	c.Assert(refused >= 2, Equals, true, Commentf("%s", s.describeChanges()))
	c.Assert(chg.Status(), Equals, state.DoingStatus)

	// serve comes up on that address: the same change finishes.
	s.state.Unlock()
	p := s.startServe(c, s.writeServeConfig(c, address))
	s.state.Lock()
	c.Assert(p.url, Equals, s.serviceURL)
	s.settleUnlocked(c)
	c.Check(s.registration(c).ID(), Equals, chg.ID())
	s.checkRegistered(c, chg, s.modelID, s.input.ProposedSerial)
}

// --- snapd's verdict on a device service's answers ------------------------------------------------

// snapdVerdictSuite lets snapd's DeviceManager register once against a URL and reports what it
// decided, for test/simulate/agreement.test.ts, which holds `snap-gadget device register` to the
// same verdicts. Its input, the JSON file named by $SNAP_GADGET_VERDICT_INPUT, holds the roots the
// device trusts (besides the store's), its seed (the model, the brand's account and account-key),
// the snapctl calls of the gadget's hook (replayed through snapd's own snapctl) and the service's
// URL; the verdict goes to the file it names. TestReportSnapctlTyping reports instead how snapd
// types and reads the registration options after given snapctl calls.
type snapdVerdictSuite struct {
	deviceMgrBaseSuite

	input verdictInput
}

type verdictInput struct {
	Trusted string     `json:"trusted"`
	Seed    string     `json:"seed"`
	Snapctl [][]string `json:"snapctl"`
	URL     string     `json:"url"`
	KeyBits int        `json:"key-bits"`
	Output  string     `json:"output"`
	// Typing: for TestReportSnapctlTyping, lists of snapctl calls (argv without "snapctl").
	Typing [][][]string `json:"typing"`
}

// snapdVerdict is what snapd did with the attempt: accepted (the device has its serial), refused
// (the change ended in Error), retry (the request task waits to try again) or poll (it waits to
// post the same serial-request again, after a 202).
type snapdVerdict struct {
	Verdict string   `json:"verdict"`
	Message string   `json:"message"`
	Log     []string `json:"log"`
	Serial  string   `json:"serial"`
	Change  string   `json:"change"`
}

// snapdReading is how snapd read the registration options after some snapctl calls.
type snapdReading struct {
	Calls          []string          `json:"calls"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	ProposedSerial string            `json:"proposed-serial"`
	Body           string            `json:"body"`
	Error          string            `json:"error"`
}

const verdictPassesBudget = 60

var _ = Suite(&snapdVerdictSuite{})

func (s *snapdVerdictSuite) SetUpSuite(c *C) {
	inputFile := os.Getenv("SNAP_GADGET_VERDICT_INPUT")
	c.Assert(inputFile, Not(Equals), "", Commentf("$SNAP_GADGET_VERDICT_INPUT must name the verdict input file"))
	c.Assert(json.Unmarshal(readBounded(c, inputFile, 16<<20), &s.input), IsNil)
	c.Assert(s.input.Output, Not(Equals), "")
}

func (s *snapdVerdictSuite) SetUpTest(c *C) {
	s.setupBaseTest(c, false)
	if s.input.KeyBits > 0 {
		s.AddCleanup(devicestate.MockKeyLength(s.input.KeyBits))
	}

	// The device trusts the store's root, as every device does, and the roots of the input.
	roots := decodeStream(c, s.input.Trusted)
	db, err := asserts.OpenDatabase(&asserts.DatabaseConfig{
		Backstore:       asserts.NewMemoryBackstore(),
		Trusted:         append(append([]asserts.Assertion{}, s.storeSigning.Trusted...), roots...),
		OtherPredefined: s.storeSigning.Generic,
	})
	c.Assert(err, IsNil)
	c.Assert(db.Add(s.storeSigning.StoreAccountKey("")), IsNil)
	// ubuntu-save's assertion database, where a UC20+ device copies its serial, trusts the same
	// (the store's root key as snapd's own UC20 registration test injects it).
	s.AddCleanup(sysdb.InjectTrusted(append([]asserts.Assertion{s.storeSigning.TrustedKey}, roots...)))
	s.state.Lock()
	assertstate.ReplaceDB(s.state, db)
	s.state.Unlock()
	s.db = db
}

func decodeStream(c *C, text string) []asserts.Assertion {
	var all []asserts.Assertion
	dec := asserts.NewDecoder(strings.NewReader(text))
	for {
		a, err := dec.Decode()
		if err == io.EOF {
			return all
		}
		c.Assert(err, IsNil)
		all = append(all, a)
	}
}

func (s *snapdVerdictSuite) writeOutput(c *C, value interface{}) {
	data, err := json.MarshalIndent(value, "", "  ")
	c.Assert(err, IsNil)
	c.Assert(os.WriteFile(s.input.Output, data, 0644), IsNil)
}

// seedDevice adds the seed's assertions, makes the model's gadget (with a prepare-device hook
// that replays the input's snapctl calls, then points the device at the URL) and marks the
// system seeded. Called with the state locked.
func (s *snapdVerdictSuite) seedDevice(c *C) *asserts.Model {
	batch := asserts.NewBatch(nil)
	var model *asserts.Model
	for _, a := range decodeStream(c, s.input.Seed) {
		if m, ok := a.(*asserts.Model); ok {
			model = m
		}
		c.Assert(batch.Add(a), IsNil)
	}
	c.Assert(model, NotNil, Commentf("the seed holds no model"))
	c.Assert(assertstate.AddBatch(s.state, batch, &asserts.CommitOptions{Precheck: true}), IsNil)
	devicestatetest.SetDevice(s.state, &auth.DeviceState{Brand: model.BrandID(), Model: model.Model()})
	if model.Grade() != asserts.ModelGradeUnset {
		// A UC20+ device keeps its key under ubuntu-save, which a booted device has.
		devicestate.SetSaveAvailable(s.mgr, true)
		devicestate.SetBootOkRan(s.mgr, true)
	}
	devicestatetest.MockGadget(c, s.state, model.Gadget(), snap.R(1), &devicestatetest.PrepareDeviceBehavior{})()
	s.AddCleanup(hookstate.MockRunHook(s.replayHook))
	s.state.Set("seeded", true)
	return model
}

func (s *snapdVerdictSuite) replayHook(ctx *hookstate.Context, _ *tomb.Tomb) ([]byte, error) {
	for _, argv := range s.input.Snapctl {
		if len(argv) == 0 || (argv[0] != "set" && argv[0] != "unset") {
			continue
		}
		if _, stderr, err := ctlcmd.Run(ctx, argv, 0); err != nil {
			return nil, fmt.Errorf("snapctl %q: %v (%s)", argv, err, stderr)
		}
	}
	quoted, _ := json.Marshal(s.input.URL)
	if _, stderr, err := ctlcmd.Run(ctx, []string{"set", "device-service.url=" + string(quoted)}, 0); err != nil {
		return nil, fmt.Errorf("snapctl set device-service.url: %v (%s)", err, stderr)
	}
	return nil, nil
}

// withoutTime is a task log line without its time and level.
func withoutTime(line string) string {
	if parts := strings.SplitN(line, " ", 3); len(parts) == 3 {
		return parts[2]
	}
	return line
}

func (s *snapdVerdictSuite) TestReportVerdict(c *C) {
	c.Assert(s.input.URL, Not(Equals), "")
	st := s.state
	st.Lock()
	defer st.Unlock()
	s.seedDevice(c)

	// Passes of the state engine until the change is over or its request task waits to try again.
	var chg *state.Change
	var request *state.Task
	for pass := 0; pass < verdictPassesBudget; pass++ {
		st.Unlock()
		s.se.Ensure()
		s.se.Wait()
		st.Lock()
		chg = nil
		for _, candidate := range st.Changes() {
			if candidate.Kind() == "become-operational" {
				chg = candidate
			}
		}
		if chg == nil {
			continue
		}
		request = nil
		for _, t := range chg.Tasks() {
			if t.Kind() == "request-serial" {
				request = t
			}
		}
		if chg.Status().Ready() || (request != nil && request.Status() == state.DoingStatus && len(request.Log()) > 0) {
			break
		}
	}
	c.Assert(chg, NotNil, Commentf("no registration change after %d passes", verdictPassesBudget))

	out := snapdVerdict{Change: chg.Status().String()}
	for _, t := range chg.Tasks() {
		out.Log = append(out.Log, t.Log()...)
	}
	device, err := devicestatetest.Device(st)
	c.Assert(err, IsNil)
	switch {
	case chg.Status() == state.DoneStatus && device.Serial != "":
		out.Verdict = "accepted"
		out.Serial = device.Serial
	case chg.Status() == state.ErrorStatus:
		out.Verdict = "refused"
		// The task's first ERROR line: a stream snapd refuses is logged with its reason, and the
		// task runner then logs the bare error again.
		for _, t := range chg.Tasks() {
			if t.Status() != state.ErrorStatus {
				continue
			}
			for _, line := range t.Log() {
				if strings.Contains(line, " ERROR ") && out.Message == "" {
					out.Message = withoutTime(line)
				}
			}
		}
	case request != nil && request.Status() == state.DoingStatus && len(request.Log()) > 0:
		last := request.Log()[len(request.Log())-1]
		out.Message = withoutTime(last)
		out.Verdict = "retry"
		if strings.Contains(last, " INFO Will poll for device serial assertion") {
			out.Verdict = "poll"
		}
	default:
		c.Fatalf("no verdict after %d passes: change %s\n%s", verdictPassesBudget, chg.Status(), strings.Join(out.Log, "\n"))
	}
	c.Logf("snapd's verdict: %s: %s", out.Verdict, out.Message)
	s.writeOutput(c, out)
}

func (s *snapdVerdictSuite) TestReportSnapctlTyping(c *C) {
	c.Assert(s.input.Typing, Not(HasLen), 0)
	st := s.state
	st.Lock()
	devicestatetest.MockGadget(c, st, "acme-pc", snap.R(1), &devicestatetest.PrepareDeviceBehavior{})()
	st.Unlock()

	var readings []snapdReading
	for _, calls := range s.input.Typing {
		ctx, err := hookstate.NewContext(nil, st, &hookstate.HookSetup{Snap: "acme-pc", Revision: snap.R(1), Hook: "prepare-device"}, nil, "")
		c.Assert(err, IsNil)
		reading := snapdReading{}
		for _, argv := range calls {
			_, stderr, err := ctlcmd.Run(ctx, argv, 0)
			if err != nil {
				reading.Calls = append(reading.Calls, fmt.Sprintf("%v%s", err, stderr))
			} else {
				reading.Calls = append(reading.Calls, "ok")
			}
		}
		// Read as getSerialRequestConfig reads them, in its order.
		ctx.Lock()
		tr := configstate.ContextTransaction(ctx)
		ctx.Unlock()
		st.Lock()
		err = tr.GetMaybe("acme-pc", "device-service.url", &reading.URL)
		if err == nil {
			err = tr.GetMaybe("acme-pc", "device-service.headers", &reading.Headers)
		}
		if err == nil {
			err = tr.GetMaybe("acme-pc", "registration.body", &reading.Body)
		}
		if err == nil {
			err = tr.GetMaybe("acme-pc", "registration.proposed-serial", &reading.ProposedSerial)
		}
		st.Unlock()
		if err != nil {
			reading = snapdReading{Calls: reading.Calls, Error: err.Error()}
		}
		readings = append(readings, reading)
	}
	s.writeOutput(c, readings)
}
