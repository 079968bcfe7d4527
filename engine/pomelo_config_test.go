package engine

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestParseServers(t *testing.T) {
	data := []byte("\xef\xbb\xbf" + `{"development":{
		"connector":[{"id":"connector-server-1","host":"127.0.0.1","port":3150,"clientHost":"127.0.0.1","clientPort":3010,"frontend":true},
		             {"id":"connector-server-2","host":"127.0.0.1","port":"3151","clientPort":"3011","frontend":"true","max-connections":100}],
		"chat":[{"id":"chat-server-1","host":"127.0.0.1","port":6050}]}}`)
	servers, err := ParseServers(data, "development")
	requireNoError(t, err)
	requireEqual(t, len(servers["connector"]), 2)
	c1, c2 := servers["connector"][0], servers["connector"][1]
	requireEqual(t, c1.ClientAddr(), "127.0.0.1:3010")
	requireEqual(t, c1.Frontend, true)
	requireEqual(t, c1.Type, "connector")
	requireEqual(t, c2.Port, 3151) // strings, as a master passes them, are accepted
	requireEqual(t, c2.ClientAddr(), "127.0.0.1:3011")
	requireEqual(t, c2.Frontend, true)
	requireEqual(t, c2.MaxConnections, 100)
	requireEqual(t, servers["chat"][0].Frontend, false)
	for _, bad := range []string{`{`, `{"development":{"x":[{"host":"h"}]}}`, `{"development":{"x":[{"id":"a","port":"p"}]}}`} {
		_, err := ParseServers([]byte(bad), "development")
		requireErrorIs(t, err, ErrConfigFile)
	}
	_, err = ParseServers(data, "production")
	requireErrorIs(t, err, ErrConfigFile)
}

func ids(list []ServerInfo) string {
	s := make([]string, len(list))
	for i, si := range list {
		s[i] = si.Type + "/" + si.ID
	}
	return strings.Join(s, " ")
}

// TestParseServerListOrder checks the order pomelo's router depends on: types as written (not
// sorted: "gate" < "connector" would flip), entries as written.
func TestParseServerListOrder(t *testing.T) {
	data := []byte(`{"production":{"gate":[{"id":"g"}]},"development":{
		"gate":[{"id":"gate-server-1","host":"127.0.0.1","clientPort":3014,"frontend":true}],
		"connector":[{"id":"c-2","port":3151},{"id":"c-1","port":3150}],
		"chat":[{"id":"chat-9"},{"id":"chat-1"},{"id":"chat-5"}],
		"area":[]}}`)
	for range 20 { // map order would show up as flakiness
		list, err := ParseServerList(data, "development")
		requireNoError(t, err)
		requireEqual(t, ids(list), "gate/gate-server-1 connector/c-2 connector/c-1 chat/chat-9 chat/chat-1 chat/chat-5")
	}
	list, err := ParseServerList(data, "production")
	requireNoError(t, err)
	requireEqual(t, ids(list), "gate/g")
}

func TestParseServerListFields(t *testing.T) {
	data := []byte(`{"development":{"chat":[
		{"id":"native","host":"10.0.0.1","port":6050,"args":" --inspect=10001","cpu":1,"max-connections":5,
		 "auto-restart":true,"restart-force":false,"frontend":false,"extra":{"a":1}},
		{"id":"strings","host":"10.0.0.2","port":"6051","cpu":"0,2-3","max-connections":"7",
		 "auto-restart":"true","restart-force":"true","frontend":"false"},
		{"id":"unset"}]}}`)
	list, err := ParseServerList(data, "development")
	requireNoError(t, err)
	requireEqual(t, len(list), 3)
	n, s, u := list[0], list[1], list[2]
	requireEqual(t, n.RPCAddr(), "10.0.0.1:6050")
	requireEqual(t, n.Args, " --inspect=10001")
	requireEqual(t, n.CPU, "1")
	requireEqual(t, n.MaxConnections, 5)
	requireEqual(t, n.AutoRestart, true)
	requireEqual(t, n.RestartForce, false)
	requireEqual(t, string(n.Raw["extra"]), `{"a":1}`) // unknown fields are kept
	requireEqual(t, s.RPCAddr(), "10.0.0.2:6051")
	requireEqual(t, s.CPU, "0,2-3")
	requireEqual(t, s.MaxConnections, 7)
	requireEqual(t, s.AutoRestart, true)
	requireEqual(t, s.RestartForce, true)
	requireEqual(t, s.Frontend, false)
	requireDeepEqual(t, ServerInfo{ID: u.ID, Type: u.Type, Raw: u.Raw}, u)
	requireEqual(t, u.ClientAddr(), ":0")
}

func TestParseServerListClusterCount(t *testing.T) {
	data := []byte(`{"development":{
		"connector":[
			{"id":"plain","host":"127.0.0.1","port":3100,"clientPort":3000,"frontend":true},
			{"id":"ignored","host":"127.0.0.1","port":"3150++","clientPort":"3010++","frontend":"true","clusterCount":3},
			{"id":"zero","port":3200,"clusterCount":0},
			{"host":"127.0.0.1","port":"3160++","clientPort":3099,"clusterCount":"2"}],
		"chat":[{"host":"127.0.0.1","port":"6050++","clusterCount":2}]}}`)
	list, err := ParseServerList(data, "development")
	requireNoError(t, err)
	requireEqual(t, ids(list), "connector/plain "+
		"connector/cluster-server-connector-0 connector/cluster-server-connector-1 connector/cluster-server-connector-2 "+
		"connector/zero connector/cluster-server-connector-3 connector/cluster-server-connector-4 "+
		"chat/cluster-server-chat-0 chat/cluster-server-chat-1")
	type ports struct{ rpc, client, count int }
	var got []ports
	for _, si := range list {
		got = append(got, ports{si.Port, si.ClientPort, si.ClusterCount})
		if _, ok := si.Raw["clusterCount"]; ok && si.ClusterCount != 0 {
			t.Fatalf("%s: a copy kept clusterCount in Raw", si.ID)
		}
	}
	requireDeepEqual(t, got, []ports{{3100, 3000, 0}, {3150, 3010, 3}, {3151, 3011, 3}, {3152, 3012, 3},
		{3200, 0, 0}, {3160, 3099, 2}, {3161, 3099, 2}, {6050, 0, 2}, {6051, 0, 2}})
	requireEqual(t, list[2].Frontend, true)

	for _, bad := range []string{
		`{"d":{"c":[{"id":"a","clusterCount":-1}]}}`,
		`{"d":{"c":[{"id":"a","clusterCount":"x"}]}}`,
		`{"d":{"c":[{"id":"a","clusterCount":100000}]}}`,
		`{"d":{"c":[{"port":"x++","clusterCount":2}]}}`,
		`{"d":{"c":[{"port":"3000++"}]}}`,                              // "++" without clusterCount is not a number
		`{"d":{"c":[{"id":"cluster-server-c-0"},{"clusterCount":1}]}}`, // duplicate id
	} {
		_, err := ParseServerList([]byte(bad), "d")
		requireErrorIs(t, err, ErrConfigFile)
	}
}

func TestParseServerListErrors(t *testing.T) {
	for _, bad := range []string{
		``, `[]`, `{"development":[]}`, `{"development":null}`, `{"development":{"c":{}}}`,
		`{"development":{"c":[1]}}`, `{"development":{"c":[{"id":[1]}]}}`, `{"development":{"c":[{"id":"a","host":{}}]}}`,
		`{"development":{"c":[{"id":"a"}],"d":[{"id":"a"}]}}`, `{"development":{"c":[{"id":"a","port":true}]}}`,
		`{"development":{"c":[{"id":"a"}]`,
	} {
		if _, err := ParseServerList([]byte(bad), "development"); err == nil {
			t.Fatalf("%s: no error", bad)
		} else {
			requireErrorIs(t, err, ErrConfigFile)
		}
	}
}

func TestLoadServers(t *testing.T) {
	sections := `{"development":{"connector":[{"id":"dev"}]},"production":{"connector":[{"id":"prod"}]}}`
	fsys := fstest.MapFS{
		"a/servers.json":             {Data: []byte(sections)},
		"a/development/servers.json": {Data: []byte(`{"connector":[{"id":"shadowed"}]}`)},
		"b/servers.json":             {Data: []byte(`{"chat":[{"id":"flat"}],"connector":[{"id":"flat-c"}]}`)},
		"c/production/servers.json":  {Data: []byte(`{"chat":[{"id":"dir"}]}`)},
		"d/servers.json":             {Data: []byte(`{"production":{"chat":[{"id":"p"}]}}`)},
	}
	for _, tc := range []struct{ dir, env, want string }{
		{"a", "development", "connector/dev"}, // servers.json wins over development/servers.json
		{"a", "production", "connector/prod"},
		{"b", "development", "chat/flat connector/flat-c"}, // no env section: the whole file
		{"c", "production", "chat/dir"},
	} {
		sub, _ := fsSub(fsys, tc.dir)
		list, err := LoadServers(sub, tc.env)
		requireNoError(t, err)
		requireEqual(t, ids(list), tc.want)
	}
	for _, tc := range []struct{ dir, env string }{{"c", "development"}, {"d", "development"}} {
		sub, _ := fsSub(fsys, tc.dir)
		_, err := LoadServers(sub, tc.env)
		requireErrorIs(t, err, ErrConfigFile)
	}
}

func TestParseMaster(t *testing.T) {
	m, err := ParseMaster([]byte(`{"development":{"id":"master-server-1","host":"127.0.0.1","port":3005}}`), "development")
	requireNoError(t, err)
	requireEqual(t, m, MasterInfo{ID: "master-server-1", Host: "127.0.0.1", Port: 3005})
	requireEqual(t, m.Addr(), "127.0.0.1:3005")
	m, err = ParseMaster([]byte("\xef\xbb\xbf"+`{"development":{"id":"m","host":"h","port":"3006"}}`), "development")
	requireNoError(t, err)
	requireEqual(t, m, MasterInfo{ID: "m", Host: "h", Port: 3006})
	for _, bad := range []string{`{}`, `{`, `{"development":[]}`, `{"development":{"port":"x"}}`, `{"development":{"id":5}}`} {
		_, err = ParseMaster([]byte(bad), "development")
		requireErrorIs(t, err, ErrConfigFile)
	}
}

func TestLoadMaster(t *testing.T) {
	fsys := fstest.MapFS{
		"a/master.json":             {Data: []byte(`{"development":{"id":"m1","host":"127.0.0.1","port":3005}}`)},
		"b/master.json":             {Data: []byte(`{"id":"flat","host":"127.0.0.1","port":3007}`)},
		"c/development/master.json": {Data: []byte(`{"id":"dir","host":"::1","port":"3008"}`)},
	}
	for dir, want := range map[string]MasterInfo{
		"a": {ID: "m1", Host: "127.0.0.1", Port: 3005},
		"b": {ID: "flat", Host: "127.0.0.1", Port: 3007},
		"c": {ID: "dir", Host: "::1", Port: 3008},
	} {
		sub, _ := fsSub(fsys, dir)
		m, err := LoadMaster(sub, "development")
		requireNoError(t, err)
		requireEqual(t, m, want)
	}
	sub, _ := fsSub(fsys, "c")
	_, err := LoadMaster(sub, "production")
	requireErrorIs(t, err, ErrConfigFile)
}

func fsSub(fsys fstest.MapFS, dir string) (fstest.MapFS, error) {
	out := fstest.MapFS{}
	for name, f := range fsys {
		if rest, ok := strings.CutPrefix(name, dir+"/"); ok {
			out[rest] = f
		}
	}
	return out, nil
}

// marshalServerList writes list back as servers.json's env section, keeping the order.
func marshalServerList(list []ServerInfo) []byte {
	var b bytes.Buffer
	b.WriteString(`{"e":{`)
	for i := 0; i < len(list); {
		j := i
		for j < len(list) && list[j].Type == list[i].Type {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(list[i].Type)
		b.Write(k)
		b.WriteString(":[")
		for n, si := range list[i:j] {
			if n > 0 {
				b.WriteByte(',')
			}
			e, _ := json.Marshal(si.Raw)
			b.Write(e)
		}
		b.WriteByte(']')
		i = j
	}
	b.WriteString(`}}`)
	return b.Bytes()
}

func FuzzParseServerList(f *testing.F) {
	for _, seed := range []string{
		`{"e":{"connector":[{"id":"c","host":"127.0.0.1","port":3150,"clientPort":"3010","frontend":true}],"chat":[{"id":"x"}]}}`,
		`{"e":{"c":[{"host":"h","port":"3150++","clientPort":"3010++","clusterCount":3}],"d":[{"id":"a","auto-restart":"true","cpu":2}]}}`,
		`{"e":{"a":[{"id":"1"}],"b":[{"id":"2"}],"a ":[{"id":"3","max-connections":"9"}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := ParseServerList(data, "e")
		if err != nil {
			requireErrorIs(t, err, ErrConfigFile)
			return
		}
		seen := map[string]bool{}
		for _, si := range list {
			if si.ID == "" || seen[si.ID] {
				t.Fatalf("empty or duplicate id %q", si.ID)
			}
			seen[si.ID] = true
		}
		byType, err := ParseServers(data, "e")
		requireNoError(t, err)
		n := 0
		for _, l := range byType {
			n += len(l)
		}
		requireEqual(t, n, len(list))
		// Writing the servers back (expanded copies are plain entries) reads the same list.
		again, err := ParseServerList(marshalServerList(list), "e")
		requireNoError(t, err)
		requireEqual(t, len(again), len(list))
		for i := range list {
			a, b := list[i], again[i]
			a.ClusterCount, a.Raw, b.Raw = 0, nil, nil
			if !maps.EqualFunc(list[i].Raw, again[i].Raw, func(x, y json.RawMessage) bool { return true }) {
				t.Fatalf("%d: fields differ: %v / %v", i, slices.Sorted(maps.Keys(list[i].Raw)), slices.Sorted(maps.Keys(again[i].Raw)))
			}
			requireEqual(t, b.ClusterCount, 0)
			requireDeepEqual(t, b, a)
		}
	})
}
