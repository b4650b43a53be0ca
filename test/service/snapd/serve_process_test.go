// `snap-gadget serve` as a process for snapd's devicestate tests (built beside them with the
// suites that use it): started as an operator starts it, its first line read for the URL, its
// output kept for failure messages, stopped with SIGTERM. Every wait is bounded.
package devicestate_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	. "gopkg.in/check.v1"
)

const (
	snapGadgetServeStart = 60 * time.Second
	snapGadgetServeStop  = 15 * time.Second
)

type snapGadgetServe struct {
	cmd     *exec.Cmd
	dir     string
	config  string
	url     string
	done    chan error
	output  *lockedOutput
	stopped bool
}

type lockedOutput struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSnapGadgetServe runs `<command> serve --config CONFIG --json` in dir with env added, and
// waits for the line with its URL; a serve that stops on its config fails the test with its words.
func startSnapGadgetServe(c *C, command []string, dir, config string, env ...string) *snapGadgetServe {
	p := &snapGadgetServe{dir: dir, config: config, done: make(chan error, 1), output: &lockedOutput{}}
	p.cmd = exec.Command(command[0], append(append([]string{}, command[1:]...), "serve", "--config", config, "--json")...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	// Killed with the test binary too (a timeout), so no serve outlives it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	p.cmd.Stderr = p.output
	stdout, err := p.cmd.StdoutPipe()
	c.Assert(err, IsNil)
	c.Assert(p.cmd.Start(), IsNil)
	first := make(chan string, 1)
	go func() {
		reader := bufio.NewReader(io.LimitReader(stdout, 1<<20))
		line, _ := reader.ReadString('\n')
		first <- line
		io.Copy(p.output, reader)
		p.done <- p.cmd.Wait()
	}()
	select {
	case line := <-first:
		var listening struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal([]byte(line), &listening); err != nil || listening.URL == "" {
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
			}
			c.Fatalf("serve did not start: %s%s", line, p.output.String())
		}
		p.url = listening.URL
	case <-time.After(snapGadgetServeStart):
		c.Fatalf("serve printed no URL within %s: %s", snapGadgetServeStart, p.output.String())
	}
	return p
}

// stop sends SIGTERM and checks that serve exits cleanly; a serve that had exited by itself is an
// error. Once: later calls (a test's own stop, then its cleanup) do nothing.
func (p *snapGadgetServe) stop(c *C) {
	if p.stopped {
		return
	}
	p.stopped = true
	select {
	case err := <-p.done:
		c.Errorf("serve had exited by itself (%v): %s", err, p.output.String())
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		c.Check(err, IsNil, Commentf("serve did not exit cleanly: %s", p.output.String()))
	case <-time.After(snapGadgetServeStop):
		p.cmd.Process.Kill()
		<-p.done
		c.Errorf("serve did not stop within %s of SIGTERM", snapGadgetServeStop)
	}
}
