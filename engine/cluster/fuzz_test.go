package cluster

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/engine"
)

// FuzzServerArgs checks what a master promises its servers: the key=value arguments it writes
// for an entry of servers.json parse back (ParseArgs) into the same server, every field as a
// string, as a pomelo child sees them.
func FuzzServerArgs(f *testing.F) {
	for _, seed := range []string{
		`{"e":{"connector":[{"id":"c1","host":"127.0.0.1","port":3150,"clientPort":"3010","frontend":true,"auto-restart":"true"}]}}`,
		`{"e":{"chat":[{"id":"a=b","host":"h","port":1,"args":" --x=1","cpu":"0,1","max-connections":7,"restart-force":true}]}}`,
		`{"e":{"gate":[{"host":"h","port":"3000++","clusterCount":2,"=":"x","k=v":1,"":2}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := engine.ParseServerList(data, "e")
		if err != nil {
			return
		}
		for _, si := range list {
			args := serverArgs("e", si)
			if strings.ContainsRune(strings.Join(args, ""), 0) {
				continue // cannot be a command line
			}
			kv, err := ParseArgs(args)
			requireNoError(t, err)
			requireEqual(t, kv["env"], "e")
			requireEqual(t, kv["serverType"], si.Type)
			requireEqual(t, kv["id"], si.ID)
			entry := make(map[string]string)
			for k, v := range kv {
				if k != "env" && k != "serverType" {
					entry[k] = v
				}
			}
			raw, _ := json.Marshal(map[string]any{"e": map[string]any{si.Type: []any{entry}}})
			back, err := engine.ParseServerList(raw, "e")
			requireNoError(t, err)
			requireEqual(t, len(back), 1)
			b := back[0]
			if b.ID != si.ID || b.Type != si.Type || b.Host != si.Host || b.Port != si.Port ||
				b.ClientHost != si.ClientHost || b.ClientPort != si.ClientPort || b.Frontend != si.Frontend ||
				b.MaxConnections != si.MaxConnections || b.Args != si.Args || b.CPU != si.CPU ||
				b.AutoRestart != si.AutoRestart || b.RestartForce != si.RestartForce {
				t.Fatalf("%+v\nbecame %+v\nthrough %q", si, b, args)
			}
		}
	})
}
