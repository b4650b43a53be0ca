// The state.json fixtures of `snap-gadget doctor`, made by snapd's own DeviceManager.
//
// This file is copied beside snapd's overlord/devicestate tests (2.57.6 from Debian 12's
// golang-github-snapcore-snapd-dev, 2.77.1 from sid's) together with the helpers in
// test/service/snapd/ (the compat file of that version, compat_2_57_test.go or compat_2_77_test.go,
// with the helpers whose signatures changed; state_text_test.go; serve_process_test.go), and
// built with them. Each test runs the real registration state machine against a `snap-gadget
// serve` process on 127.0.0.1 and makes it fail on purpose (or succeed), then saves snapd's state
// as snapd writes state.json (json.Marshal of the state) in $OUT/<case>/state.json.
// test/doctor/snapd/make-fixtures.ts builds and runs it.
//
// The device: brand acme, model gw-100 (UC18 form), gadget gw-100-gadget whose prepare-device hook
// sets device-service.url, device-service.headers {"api-key": …}, registration.proposed-serial
// and registration.body with snapd's own snapctl. The brand signs its model with one key and its
// serials with another (as brands do): the device trusts the serial key only through the chain
// serve returns, registered with the test store root the device trusts.
package devicestate_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "gopkg.in/check.v1"
	"gopkg.in/tomb.v2"

	"github.com/snapcore/snapd/asserts"
	"github.com/snapcore/snapd/asserts/assertstest"
	"github.com/snapcore/snapd/httputil"
	"github.com/snapcore/snapd/overlord/assertstate/assertstatetest"
	"github.com/snapcore/snapd/overlord/auth"
	"github.com/snapcore/snapd/overlord/devicestate"
	"github.com/snapcore/snapd/overlord/devicestate/devicestatetest"
	"github.com/snapcore/snapd/overlord/hookstate"
	"github.com/snapcore/snapd/overlord/patch"
	"github.com/snapcore/snapd/overlord/state"
	"github.com/snapcore/snapd/snap"
)

const (
	fixtureBrand   = "acme"
	fixtureModel   = "gw-100"
	fixtureGadget  = "gw-100-gadget"
	fixtureSerial  = "GW100-000123"
	fixtureAPIKeyV = "SNAP_GADGET_FIXTURE_API_KEY"
	// The body a snap-gadget hook builds is YAML; its content does not matter here.
	fixtureBody   = "serial: GW100-000123\nboard-model: UP Squared\n"
	fixturePasses = 60
)

// doctorFixtureInput is what make-fixtures.ts hands over in $SNAP_GADGET_DOCTOR_INPUT.
type doctorFixtureInput struct {
	// APIKey: the api-key serve expects and the hook sets (a test value, not a secret).
	APIKey string `json:"api-key"`
	// HookFailure: what the gadget's prepare-device hook printed when it found no serial (the
	// runtime's own line), for the case where it exits 1.
	HookFailure string `json:"hook-failure"`
	// Out: the directory the fixtures go to, one directory per test.
	Out string `json:"out"`
}

type doctorFixtureSuite struct {
	deviceMgrBaseSuite

	input   doctorFixtureInput
	command []string
	dir     string

	// The brand's key for serials (serve signs with it; RSA 4096 as serve requires) and the key
	// of another device (the one that took the serial first).
	serialKey    *rsa.PrivateKey
	otherDevice  asserts.PrivateKey
	factoryCA    *x509.Certificate
	factoryCAKey *ecdsa.PrivateKey
	// A store stack the device does not trust: a lab's.
	lab *assertstest.StoreStack

	// Per test.
	serviceURL    string
	hookSets      [][]string
	hookFails     bool
	serialHook    func(ctx *hookstate.Context) error
	work          string
	serves        []*snapGadgetServe
	serialAcctKey *asserts.AccountKey
}

var _ = Suite(&doctorFixtureSuite{})

func (s *doctorFixtureSuite) SetUpSuite(c *C) {
	file := os.Getenv("SNAP_GADGET_DOCTOR_INPUT")
	c.Assert(file, Not(Equals), "", Commentf("$SNAP_GADGET_DOCTOR_INPUT must name the input file"))
	data, err := os.ReadFile(file)
	c.Assert(err, IsNil)
	c.Assert(json.Unmarshal(data, &s.input), IsNil)
	c.Assert(s.input.Out, Not(Equals), "")
	c.Assert(json.Unmarshal([]byte(os.Getenv("SNAP_GADGET_COMMAND")), &s.command), IsNil, Commentf("$SNAP_GADGET_COMMAND must be a JSON array"))
	s.dir = c.MkDir()

	s.serialKey, err = rsa.GenerateKey(rand.Reader, 4096)
	c.Assert(err, IsNil)
	otherDevice, err := rsa.GenerateKey(rand.Reader, 4096)
	c.Assert(err, IsNil)
	s.otherDevice = asserts.RSAPrivateKey(otherDevice)

	// The factory's CA, which the device trusts (as its image's CA bundle would). Go reads
	// SSL_CERT_FILE once, at the first certificate it verifies: before any test runs.
	s.factoryCAKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c.Assert(err, IsNil)
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "acme factory CA"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &s.factoryCAKey.PublicKey, s.factoryCAKey)
	c.Assert(err, IsNil)
	s.factoryCA, err = x509.ParseCertificate(der)
	c.Assert(err, IsNil)
	caFile := filepath.Join(s.dir, "factory-ca.pem")
	c.Assert(os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0644), IsNil)
	os.Setenv("SSL_CERT_FILE", caFile)

	labKeys := &assertstest.StoreKeys{}
	labKeys.Root, _ = assertstest.GenerateKey(752)
	labKeys.Store, _ = assertstest.GenerateKey(752)
	labKeys.Generic, _ = assertstest.GenerateKey(752)
	labKeys.GenericModels, _ = assertstest.GenerateKey(752)
	s.lab = assertstest.NewStoreStack("lab-root", labKeys)
}

func (s *doctorFixtureSuite) SetUpTest(c *C) {
	s.setupBaseTest(c, false)
	s.serviceURL = ""
	s.hookSets = nil
	s.hookFails = false
	s.serialHook = nil
	s.serves = nil
	s.work = c.MkDir()

	// The brand: its account and model key, registered with the store root the device trusts,
	// and the account-key of its serial key, signed by that store too.
	modelKey, _ := assertstest.GenerateKey(752)
	s.brands.Register(fixtureBrand, modelKey, map[string]interface{}{"validation": "verified"})
	s.serialAcctKey = assertstest.NewAccountKey(s.storeSigning, s.brands.Account(fixtureBrand), map[string]interface{}{"name": "serials"}, asserts.RSAPrivateKey(s.serialKey).PublicKey(), "")

	s.AddCleanup(func() {
		for _, p := range s.serves {
			p.stop(c)
		}
	})
}

// --- the device ---------------------------------------------------------------------------------

// setUpDevice puts the model in state, the gadget (with a prepare-serial-request hook when
// serialHook is set, 2.74+), and marks the system seeded: the next ensure pass registers.
func (s *doctorFixtureSuite) setUpDevice(c *C, modelName string) {
	st := s.state
	st.Lock()
	defer st.Unlock()

	model := s.brands.Model(fixtureBrand, modelName, map[string]interface{}{
		"architecture": "amd64",
		"kernel":       "pc-kernel",
		"gadget":       fixtureGadget,
		"base":         "core18",
	})
	assertstatetest.AddMany(st, s.brands.AccountsAndKeys(fixtureBrand)...)
	assertstatetest.AddMany(st, model)
	devicestatetest.SetDevice(st, &auth.DeviceState{Brand: fixtureBrand, Model: modelName})

	mockGadget(c, st, fixtureGadget, snap.R(1), s.serialHook != nil)
	s.AddCleanup(hookstate.MockRunHook(s.runHook))
	st.Set("seeded", true)
}

// runHook is the gadget's hooks: prepare-device sets the registration options with snapd's
// snapctl (or fails as a hook that found no serial does); prepare-serial-request runs the test's.
func (s *doctorFixtureSuite) runHook(ctx *hookstate.Context, _ *tomb.Tomb) ([]byte, error) {
	switch ctx.HookName() {
	case "prepare-device":
		if s.hookFails {
			// The runtime prints one line on stderr and exits 1; snapd keeps the output.
			return []byte(s.input.HookFailure + "\n"), errors.New("exit status 1")
		}
		headers, _ := json.Marshal(map[string]string{"api-key": s.input.APIKey})
		url, _ := json.Marshal(s.serviceURL)
		serial, _ := json.Marshal(fixtureSerial)
		body, _ := json.Marshal(fixtureBody)
		sets := [][]string{{"set",
			"device-service.url=" + string(url),
			"device-service.headers=" + string(headers),
			"registration.proposed-serial=" + string(serial),
			"registration.body=" + string(body),
		}}
		for _, argv := range append(sets, s.hookSets...) {
			if _, err := runSnapctl(ctx, argv); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case "prepare-serial-request":
		if s.serialHook == nil {
			return nil, fmt.Errorf("unexpected hook %q", ctx.HookName())
		}
		return nil, s.serialHook(ctx)
	}
	return nil, fmt.Errorf("unexpected hook %q", ctx.HookName())
}

// save writes snapd's state as snapd writes state.json (called with the state locked), with the
// patch level a first boot's state has (patch.Init; the test overlord starts without it). Like a
// device that never refreshed snapd, it does not name snapd's version (patch.Apply records
// patch-sublevel-last-version only when a new snapd patches an older state).
func (s *doctorFixtureSuite) save(c *C, name string) {
	s.state.Set("patch-level", patch.Level)
	s.state.Set("patch-sublevel", patch.Sublevel)
	data, err := json.Marshal(s.state)
	c.Assert(err, IsNil)
	dir := filepath.Join(s.input.Out, name)
	c.Assert(os.MkdirAll(dir, 0755), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "state.json"), data, 0644), IsNil)
	c.Logf("%s: %s", name, s.describe())
}

func (s *doctorFixtureSuite) describe() string {
	out := strings.Builder{}
	out.WriteString(changesText(s.state))
	for _, p := range s.serves {
		fmt.Fprintf(&out, "\nserve:\n%s", p.output.String())
	}
	return out.String()
}

// settle runs the state engine until nothing is left to do (state locked).
func (s *doctorFixtureSuite) settle(c *C) {
	settleState(c, s.state, s.o, s.describe)
}

// passUntil runs ensure passes (state locked) until done says so.
func (s *doctorFixtureSuite) passUntil(c *C, done func() bool) {
	for pass := 0; pass < fixturePasses; pass++ {
		s.state.Unlock()
		s.se.Ensure()
		s.se.Wait()
		s.state.Lock()
		if done() {
			return
		}
	}
	c.Fatalf("the registration did not get there in %d passes:%s", fixturePasses, s.describe())
}

func (s *doctorFixtureSuite) registration(c *C) *state.Change {
	for _, chg := range s.state.Changes() {
		if chg.Kind() == "become-operational" {
			return chg
		}
	}
	return nil
}

func (s *doctorFixtureSuite) requestSerialTask(chg *state.Change) *state.Task {
	if chg == nil {
		return nil
	}
	for _, t := range chg.Tasks() {
		if t.Kind() == "request-serial" {
			return t
		}
	}
	return nil
}

func (s *doctorFixtureSuite) device(c *C) *auth.DeviceState {
	device, err := devicestatetest.Device(s.state)
	c.Assert(err, IsNil)
	return device
}

// --- the service --------------------------------------------------------------------------------

type serveOptions struct {
	model string
	// chain: "trusted" (the brand's account and serial account-key from the store the device
	// trusts), "none", or "lab" (the same, signed by a lab root the device does not trust).
	chain string
	// tls: "" (plain HTTP), "unknown-authority" (self-signed), "not-yet-valid" (the factory CA's,
	// valid from tomorrow).
	tls    string
	listen string
}

func writeAssertion(c *C, file string, a asserts.Assertion) {
	c.Assert(os.WriteFile(file, append(asserts.Encode(a), '\n'), 0644), IsNil)
}

func (s *doctorFixtureSuite) writeServeConfig(c *C, opts serveOptions) string {
	dir, err := os.MkdirTemp(s.work, "serve-")
	c.Assert(err, IsNil)
	der, err := x509.MarshalPKCS8PrivateKey(s.serialKey)
	c.Assert(err, IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "serials.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0600), IsNil)
	chain := ""
	switch opts.chain {
	case "trusted":
		writeAssertion(c, filepath.Join(dir, "account.assert"), s.brands.Account(fixtureBrand))
		writeAssertion(c, filepath.Join(dir, "serials.account-key"), s.serialAcctKey)
		chain = "    chain: [account.assert, serials.account-key]\n"
	case "lab":
		account := assertstest.NewAccount(s.lab, fixtureBrand, map[string]interface{}{"account-id": fixtureBrand, "validation": "verified"}, "")
		key := assertstest.NewAccountKey(s.lab, account, map[string]interface{}{"name": "serials"}, asserts.RSAPrivateKey(s.serialKey).PublicKey(), "")
		writeAssertion(c, filepath.Join(dir, "account.assert"), account)
		writeAssertion(c, filepath.Join(dir, "serials.account-key"), key)
		chain = "    chain: [account.assert, serials.account-key]\n"
	case "none":
	default:
		c.Fatalf("unknown chain %q", opts.chain)
	}
	tls := ""
	if opts.tls != "" {
		s.writeCertificate(c, dir, opts.tls)
		tls = "tls: {certificate: tls.crt, key: tls.key}\n"
	}
	listen := opts.listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	model := opts.model
	if model == "" {
		model = fixtureModel
	}
	config := fmt.Sprintf("listen: %s\ndatabase: sqlite:serve.db\n%smodels:\n  - brand: %s\n    model: %s\n    api-key: {env: %s}\n    signing-key: serials.pem\n%s",
		listen, tls, fixtureBrand, model, fixtureAPIKeyV, chain)
	file := filepath.Join(dir, "serve.yaml")
	c.Assert(os.WriteFile(file, []byte(config), 0644), IsNil)
	return file
}

// writeCertificate writes tls.crt and tls.key for 127.0.0.1: self-signed, or issued by the
// factory CA the device trusts but valid only from tomorrow (the device's clock is behind).
func (s *doctorFixtureSuite) writeCertificate(c *C, dir, kind string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	c.Assert(err, IsNil)
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "device-service.acme.test"},
		DNSNames:     []string{"device-service.acme.test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(90 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	var der []byte
	switch kind {
	case "unknown-authority":
		der, err = x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	case "not-yet-valid":
		template.NotBefore = now.Add(36 * time.Hour)
		der, err = x509.CreateCertificate(rand.Reader, template, s.factoryCA, &key.PublicKey, s.factoryCAKey)
	default:
		c.Fatalf("unknown certificate %q", kind)
	}
	c.Assert(err, IsNil)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	c.Assert(err, IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0644), IsNil)
	c.Assert(os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0600), IsNil)
}

// startServe runs `snap-gadget serve --config FILE --json` (serve_process_test.go) and points the
// device at it.
func (s *doctorFixtureSuite) startServe(c *C, opts serveOptions) *snapGadgetServe {
	configFile := s.writeServeConfig(c, opts)
	p := startSnapGadgetServe(c, s.command, filepath.Dir(configFile), configFile, fixtureAPIKeyV+"="+s.input.APIKey)
	s.serves = append(s.serves, p)
	s.serviceURL = p.url
	return p
}

// serialPOSTs answers the first n serial POSTs with a bare 503, as a proxy in front of a busy
// service does; everything else goes through snapd's own client.
type serialPOSTs struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    int
}

func (t *serialPOSTs) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	busy := t.n > 0 && strings.HasSuffix(req.URL.Path, "/serial")
	if busy {
		t.n--
	}
	t.mu.Unlock()
	if !busy {
		return t.base.RoundTrip(req)
	}
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body := "503 Service Unavailable\n"
	return &http.Response{
		Status: "503 Service Unavailable", StatusCode: 503, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": []string{"text/plain"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req,
	}, nil
}

func (s *doctorFixtureSuite) busySerialPOSTs(n int) {
	tap := &serialPOSTs{n: n}
	s.AddCleanup(devicestate.MockHttputilNewHTTPClient(func(opts *httputil.ClientOptions) *http.Client {
		client := httputil.NewHTTPClient(opts)
		tap.base = client.Transport
		client.Transport = tap
		return client
	}))
}

// takeSerial registers another device with serve under fixtureSerial, over HTTP as snapd does.
func (s *doctorFixtureSuite) takeSerial(c *C, base string) {
	s.state.Lock()
	model, err := s.db.Find(asserts.ModelType, map[string]string{"series": "16", "brand-id": fixtureBrand, "model": fixtureModel})
	s.state.Unlock()
	c.Assert(err, IsNil)
	post := func(path, contentType string, body []byte) (int, []byte) {
		req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
		c.Assert(err, IsNil)
		req.Header.Set("api-key", s.input.APIKey)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		c.Assert(err, IsNil)
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, data
	}
	status, data := post("request-id", "", nil)
	c.Assert(status, Equals, 200, Commentf("%s", data))
	var rid struct {
		RequestID string `json:"request-id"`
	}
	c.Assert(json.Unmarshal(data, &rid), IsNil)
	encodedKey, err := asserts.EncodePublicKey(s.otherDevice.PublicKey())
	c.Assert(err, IsNil)
	request, err := asserts.SignWithoutAuthority(asserts.SerialRequestType, map[string]interface{}{
		"brand-id": fixtureBrand, "model": fixtureModel, "request-id": rid.RequestID, "device-key": string(encodedKey), "serial": fixtureSerial,
	}, []byte(fixtureBody), s.otherDevice)
	c.Assert(err, IsNil)
	stream := append(append(asserts.Encode(request), '\n'), asserts.Encode(model)...)
	status, data = post("serial", asserts.MediaType, stream)
	c.Assert(status, Equals, 200, Commentf("%s", data))
}

// --- the cases ----------------------------------------------------------------------------------

// The device registers: the baseline every other case departs from.
func (s *doctorFixtureSuite) TestRegistered(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.DoneStatus, Commentf("%s", s.describe()))
	c.Assert(s.device(c).Serial, Equals, fixtureSerial)
	s.save(c, "registered")
}

// The hook sets an api-key serve does not know: the request-id is refused (401, serve's message).
func (s *doctorFixtureSuite) TestWrongAPIKey(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.hookSets = [][]string{{"set", `device-service.headers={"api-key":"an-old-factory-key"}`}}
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "wrong-api-key")
}

// Nothing listens at the service URL: snapd logs the refused connection and retries (Doing).
func (s *doctorFixtureSuite) TestServiceDown(c *C) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	c.Assert(err, IsNil)
	address := listener.Addr().String()
	listener.Close()
	s.serviceURL = "http://" + address + "/v1/"
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.passUntil(c, func() bool {
		t := s.requestSerialTask(s.registration(c))
		return t != nil && strings.Contains(strings.Join(t.Log(), "\n"), "connection refused")
	})
	c.Assert(s.registration(c).Status(), Equals, state.DoingStatus)
	s.save(c, "service-down")
}

// serve's certificate is self-signed: the device does not trust it.
func (s *doctorFixtureSuite) TestTLSUnknownAuthority(c *C) {
	s.startServe(c, serveOptions{chain: "trusted", tls: "unknown-authority"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.passUntil(c, func() bool {
		chg := s.registration(c)
		return chg != nil && chg.Status().Ready()
	})
	c.Assert(s.registration(c).Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "tls-unknown-authority")
}

// serve's certificate (from the CA the device trusts) is valid from tomorrow: the device's clock
// is behind. 2.57 fails at once; 2.58.1+ retries without a log line for 37.5 minutes, then fails.
func (s *doctorFixtureSuite) TestClockBehind(c *C) {
	s.startServe(c, serveOptions{chain: "trusted", tls: "not-yet-valid"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.passUntil(c, func() bool {
		chg := s.registration(c)
		t := s.requestSerialTask(chg)
		if t == nil {
			return false
		}
		var tentatives int
		t.Get("pre-poll-tentatives", &tentatives)
		return chg.Status().Ready() || (t.Status() == state.DoingStatus && tentatives >= 1 && !t.AtTime().IsZero())
	})
	if !s.registration(c).Status().Ready() {
		// 2.58.1+: retrying silently. Saved as found, then let run out (retries at once).
		c.Assert(s.requestSerialTask(s.registration(c)).Log(), HasLen, 0, Commentf("%s", s.describe()))
		s.save(c, "clock-behind-retrying")
		restore := devicestate.MockRetryInterval(0)
		s.requestSerialTask(s.registration(c)).At(time.Now())
		s.passUntil(c, func() bool { return s.registration(c).Status().Ready() })
		restore()
	}
	c.Assert(s.registration(c).Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "clock-behind")
}

// The prepare-device hook finds no serial on the board and exits 1 with its reason.
func (s *doctorFixtureSuite) TestPrepareDeviceHookFails(c *C) {
	s.startServe(c, serveOptions{chain: "trusted"})
	s.hookFails = true
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "prepare-device-hook-fails")
}

// Another device already has the serial this one proposes.
func (s *doctorFixtureSuite) TestSerialTaken(c *C) {
	p := s.startServe(c, serveOptions{chain: "trusted"})
	s.setUpDevice(c, fixtureModel)
	s.takeSerial(c, p.url)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "serial-taken")
}

// serve signs with a key whose account-key a lab root signed, which the device does not trust:
// serve's log says issued, the device rejects the serial.
func (s *doctorFixtureSuite) TestSerialKeyOutsideTheChain(c *C) {
	s.startServe(c, serveOptions{chain: "lab"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	c.Assert(s.device(c).Serial, Equals, "")
	s.save(c, "serial-key-untrusted")
}

// serve returns the serial without its chain: the device asks the store for the key, which does
// not have it, and retries every minute for ever.
func (s *doctorFixtureSuite) TestNoChain(c *C) {
	s.startServe(c, serveOptions{chain: "none"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.passUntil(c, func() bool {
		t := s.requestSerialTask(s.registration(c))
		return t != nil && strings.Contains(strings.Join(t.Log(), "\n"), "cannot fetch signing key")
	})
	c.Assert(s.registration(c).Status(), Equals, state.DoingStatus)
	s.save(c, "serial-key-unknown")
}

// The device's model is not one serve serves: the api-key is another model's.
func (s *doctorFixtureSuite) TestModelNotServed(c *C) {
	s.startServe(c, serveOptions{chain: "trusted", model: "gw-100-old"})
	s.setUpDevice(c, fixtureModel)
	s.state.Lock()
	defer s.state.Unlock()
	s.settle(c)
	chg := s.registration(c)
	c.Assert(chg.Status(), Equals, state.ErrorStatus, Commentf("%s", s.describe()))
	s.save(c, "model-not-served")
}
