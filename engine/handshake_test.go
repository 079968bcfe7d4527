package engine

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
	"github.com/shaddock-io/shaddock/hybrid"
)

// sysKeys parses the rendered sys members and returns their keys in order.
func sysKeys(t testing.TB, extra []byte) ([]string, map[string]json.RawMessage) {
	t.Helper()
	text := `{"heartbeat":3` + map[bool]string{true: "", false: ","}[len(extra) == 0] + string(extra) + `}`
	var m map[string]json.RawMessage
	requireNoError(t, json.Unmarshal([]byte(text), &m))
	dec := json.NewDecoder(strings.NewReader(text))
	var keys []string
	dec.Token()
	for dec.More() {
		k, err := dec.Token()
		requireNoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		requireNoError(t, dec.Decode(&skip))
	}
	return keys, m
}

func TestHandshakeVariants(t *testing.T) {
	protos, err := pomelopb.Parse([]byte(`{"connector.h.m":{"required string a":1}}`))
	requireNoError(t, err)
	e := newEnv(t, AppConfig{ClientProtos: protos, Dictionary: []string{"onChat"}}, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.m", echoRaw))
	}, ServerConfig{UseDict: true, UseProtobuf: true})
	c := newFakeConn()
	res := e.srv.handshake(c, &hybrid.HandshakeRequest{Type: "unity-socket", Version: "0.3.0"})
	requireEqual(t, res.Code, CodeOK)
	keys, m := sysKeys(t, res.SysExtra)
	requireDeepEqual(t, keys, []string{"heartbeat", "dict", "routeToCode", "codeToRoute", "dictVersion", "useDict", "protos", "useProto"})
	requireEqual(t, string(m["dict"]), `{"connector.h.m":1,"onChat":2}`)
	requireEqual(t, string(m["routeToCode"]), string(m["dict"]))
	requireEqual(t, string(m["codeToRoute"]), `{"1":"connector.h.m","2":"onChat"}`)
	requireEqual(t, string(m["dictVersion"]), `"`+e.srv.Dictionary().Version()+`"`)
	var p struct {
		Server  json.RawMessage `json:"server"`
		Client  json.RawMessage `json:"client"`
		Version string          `json:"version"`
	}
	requireNoError(t, json.Unmarshal(m["protos"], &p))
	requireEqual(t, string(p.Client), string(protos.AppendParsedJSON(nil)))
	requireEqual(t, string(p.Server), `{}`)
	requireEqual(t, p.Version, pomelopb.Version(protos, nil))

	// Cached versions shrink the response.
	res = e.srv.handshake(c, &hybrid.HandshakeRequest{DictVersion: e.srv.Dictionary().Version(), ProtoVersion: p.Version})
	requireEqual(t, string(res.SysExtra), `"useDict":true,"useProto":true`)
	res = e.srv.handshake(c, &hybrid.HandshakeRequest{ProtoVersion: p.Version})
	keys, _ = sysKeys(t, res.SysExtra)
	requireDeepEqual(t, keys, []string{"heartbeat", "dict", "routeToCode", "codeToRoute", "dictVersion", "useDict", "useProto"})
	res = e.srv.handshake(c, &hybrid.HandshakeRequest{DictVersion: e.srv.Dictionary().Version(), ProtoVersion: "stale"})
	keys, _ = sysKeys(t, res.SysExtra)
	requireDeepEqual(t, keys, []string{"heartbeat", "useDict", "protos", "useProto"})

	// Neither option: nothing after heartbeat.
	plain := newEnv(t, AppConfig{}, nil, ServerConfig{})
	requireEqual(t, len(plain.srv.handshake(c, &hybrid.HandshakeRequest{}).SysExtra), 0)
}

func TestHandshakeHooks(t *testing.T) {
	e := newEnv(t, AppConfig{}, nil, ServerConfig{UseCrypto: true},
		WithCheckClient(func(typ, ver string) bool { return ver != "0.0.1" }),
		WithHandshake(func(c Conn, req *hybrid.HandshakeRequest) (json.RawMessage, error) {
			if string(req.User) == `{"deny":true}` {
				return nil, errors.New("denied")
			}
			return json.RawMessage(`{"welcome":` + string(req.User) + `}`), nil
		}))
	c := newFakeConn()
	_, pub := loadCryptoVectors(t)
	requireEqual(t, e.srv.handshake(c, &hybrid.HandshakeRequest{Version: "0.0.1", RSA: pub}).Code, CodeOldClient)
	requireEqual(t, e.srv.handshake(c, &hybrid.HandshakeRequest{Version: "1"}).Code, CodeUseError) // useCrypto, no key
	requireEqual(t, e.srv.handshake(c, &hybrid.HandshakeRequest{Version: "1", RSA: pub, User: json.RawMessage(`{"deny":true}`)}).Code, CodeUseError)
	res := e.srv.handshake(c, &hybrid.HandshakeRequest{Version: "1", RSA: pub, User: json.RawMessage(`{"n":1}`)})
	requireEqual(t, res.Code, CodeOK)
	requireEqual(t, string(res.User), `{"welcome":{"n":1}}`)
	requireEqual(t, e.srv.Stats().HandshakeRefused, uint64(3))
}
