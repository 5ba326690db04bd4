package server

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ducktail/ducktail/base"
)

// eventSourceScript subscribes with a real EventSource (Node's, from undici,
// which implements the WHATWG parsing rules browsers do) and prints what
// the listeners were given. It prints "open" first, so that the test knows
// the subscription is live before it posts.
const eventSourceScript = `
const [url, want] = [process.argv[1], Number(process.argv[2])];
const got = [];
const es = new EventSource(url);
const listen = (e) => {
  got.push({type: e.type, data: e.data, lastEventId: e.lastEventId});
  if (got.length === want) { es.close(); console.log(JSON.stringify(got)); process.exit(0); }
};
es.onopen = () => console.log('open');
es.onmessage = listen;
es.addEventListener('text/plain', listen);
es.addEventListener('click', listen);
es.onerror = (e) => { console.error('error', e.message ?? ''); };
setTimeout(() => { console.log(JSON.stringify(got)); process.exit(1); }, 10000);
`

// eventSourceNode returns a node that has EventSource (Node 22, or 20 and
// 21 behind --experimental-eventsource), with the flags it needs.
func eventSourceNode(t *testing.T) (string, []string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: skipping the EventSource test")
	}
	for _, flags := range [][]string{nil, {"--experimental-eventsource"}} {
		out, err := exec.Command(node, append(flags, "-e", "process.stdout.write(typeof EventSource)")...).Output()
		if err == nil && string(out) == "function" {
			return node, flags
		}
	}
	t.Skip("this node has no EventSource (Node >= 20.18 with --experimental-eventsource, or 22): skipping")
	return "", nil
}

// TestEventSourceDispatches: a browser's EventSource gets every event of a
// live subscription, with data=true and without (SPEC 4.2: id and event,
// no data), as an event of its type whose lastEventId is the event's id.
func TestEventSourceDispatches(t *testing.T) {
	node, flags := eventSourceNode(t)
	ts := startServer(t)
	// EventSource sends no Authorization header: browsers subscribe to
	// public streams.
	name := base.StreamName{Account: "user", Name: "es"}
	ts.post("/user/es", "first")
	ts.srv.opts.Access.SetPublic(name, "read")
	for _, c := range []struct {
		query string
		data  []string
	}{
		{"", []string{"", ""}},
		{"?data=true", []string{`"two"`, `"three"`}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cmd := exec.CommandContext(ctx, node, append(flags, "-e", eventSourceScript, ts.url+"/user/es"+c.query, "2")...)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "open" {
			t.Fatalf("%s: EventSource did not open: %q %s", c.query, lines.Text(), stderr.String())
		}
		st, err := ts.eng.Stream(name)
		if err != nil {
			t.Fatal(err)
		}
		first := st.Stats().NextID
		ts.post("/user/es", "two", "Event-Type", "click")
		ts.post("/user/es", "three")
		var got []struct{ Type, Data, LastEventID string }
		if lines.Scan() {
			if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
				t.Fatalf("%s: %v: %s", c.query, err, lines.Text())
			}
		}
		cmd.Wait()
		cancel()
		if len(got) != 2 {
			t.Fatalf("%s: EventSource dispatched %d events, want 2: %+v %s", c.query, len(got), got, stderr.String())
		}
		for i, ev := range got {
			wantType := map[int]string{0: "click", 1: "text/plain"}[i]
			dataOK := ev.Data == c.data[i] || (c.data[i] != "" && strings.Contains(ev.Data, c.data[i]))
			if ev.Type != wantType || ev.LastEventID != strconv.FormatInt(first+int64(i), 10) || !dataOK {
				t.Errorf("%s: event %d: %+v, want type %s, lastEventId %d, data %q", c.query, i, ev, wantType, first+int64(i), c.data[i])
			}
		}
	}
}
