// What the suites built into the devicestate test binary show when a registration goes wrong:
// the state's changes, and settling the state engine with them in the failure message.
package devicestate_test

import (
	"fmt"
	"strings"

	. "gopkg.in/check.v1"

	"github.com/snapcore/snapd/overlord"
	"github.com/snapcore/snapd/overlord/state"
)

// changesText is every change of st with its tasks' statuses and logs (state locked).
func changesText(st *state.State) string {
	var out strings.Builder
	for _, chg := range st.Changes() {
		fmt.Fprintf(&out, "change %s %s: %s\n", chg.ID(), chg.Kind(), chg.Status())
		for _, t := range chg.Tasks() {
			fmt.Fprintf(&out, "  task %s: %s\n    %s\n", t.Kind(), t.Status(), strings.Join(t.Log(), "\n    "))
		}
	}
	return out.String()
}

// settleState runs the state engine until nothing is left to do (state locked), failing with
// describe's text when it does not settle in time.
func settleState(c *C, st *state.State, o *overlord.Overlord, describe func() string) {
	st.Unlock()
	err := o.Settle(settleTimeout)
	st.Lock()
	c.Assert(err, IsNil, Commentf("%s", describe()))
}
