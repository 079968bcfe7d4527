package engine

import "testing"

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

func TestParseMaster(t *testing.T) {
	m, err := ParseMaster([]byte(`{"development":{"id":"master-server-1","host":"127.0.0.1","port":3005}}`), "development")
	requireNoError(t, err)
	requireEqual(t, m, MasterInfo{ID: "master-server-1", Host: "127.0.0.1", Port: 3005})
	_, err = ParseMaster([]byte(`{}`), "development")
	requireErrorIs(t, err, ErrConfigFile)
}
