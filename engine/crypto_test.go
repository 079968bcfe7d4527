package engine

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"sync"
	"testing"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

type cryptoVectors struct {
	HandshakeSysRSA struct {
		N string `json:"rsa_n"`
		E int    `json:"rsa_e"`
	} `json:"handshake_sys_rsa"`
	Cases []struct {
		BodyJSON       string `json:"body_json"`
		SignedBodyJSON string `json:"signed_body_json"`
		SignatureHex   string `json:"signature_hex"`
		Valid          bool   `json:"valid"`
	} `json:"cases"`
}

func loadCryptoVectors(t testing.TB) (*cryptoVectors, *rsa.PublicKey) {
	t.Helper()
	data, err := os.ReadFile("testdata/crypto.json")
	requireNoError(t, err)
	var v cryptoVectors
	requireNoError(t, json.Unmarshal(data, &v))
	n, ok := new(big.Int).SetString(v.HandshakeSysRSA.N, 16)
	if !ok {
		t.Fatal("bad modulus")
	}
	return &v, &rsa.PublicKey{N: n, E: v.HandshakeSysRSA.E}
}

// cryptoEnv is a useCrypto server whose handler records the body it was given.
func cryptoEnv(t testing.TB, appCfg AppConfig) (*testEnv, func() []string) {
	var mu sync.Mutex
	var seen []string
	e := newEnv(t, appCfg, func(app *App) {
		mustHandle(t, Handle(app, "connector.h.m", func(_ *Context, req *json.RawMessage) (*json.RawMessage, error) {
			mu.Lock()
			seen = append(seen, string(*req))
			mu.Unlock()
			return req, nil
		}))
	}, ServerConfig{UseCrypto: true, UseProtobuf: true})
	return e, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
}

func TestCryptoVectors(t *testing.T) {
	v, pub := loadCryptoVectors(t)
	e, seen := cryptoEnv(t, AppConfig{})
	c, s := e.connect()
	c.pub = pub
	bad := uint64(0)
	for i, tc := range v.Cases {
		m := e.call(c, s, uint32(i+1), "connector.h.m", tc.SignedBodyJSON)
		if tc.Valid {
			// The handler sees the body without __crypto__, byte for byte as signed.
			requireDeepEqual(t, seen(), []string{tc.BodyJSON})
			requireEqual(t, string(m.Body), tc.BodyJSON)
		} else {
			bad++
			requireEqual(t, len(seen()), 0)
			requireEqual(t, string(m.Body), `{"code":500}`)
		}
		requireEqual(t, e.srv.Stats().BadSignature, bad)
	}
	// Notifies with a bad signature are dropped without a reply.
	before, _ := c.messages(t)
	e.send(s, request(0, "connector.h.m", v.Cases[1].SignedBodyJSON))
	after, _ := c.messages(t)
	requireEqual(t, len(after), len(before))
	requireEqual(t, e.srv.Stats().BadSignature, bad+1)
	// No signature, no key.
	requireEqual(t, string(e.call(c, s, 100, "connector.h.m", v.Cases[0].BodyJSON).Body), `{"code":500}`)
	c.pub = nil
	requireEqual(t, string(e.call(c, s, 101, "connector.h.m", v.Cases[0].SignedBodyJSON).Body), `{"code":500}`)
	requireEqual(t, e.srv.Stats().BadSignature, bad+3)
}

func signHex(t testing.TB, key *rsa.PrivateKey, h crypto.Hash, text string) string {
	t.Helper()
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum([]byte(text))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(text))
		digest = d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, h, digest)
	requireNoError(t, err)
	return new(big.Int).SetBytes(sig).Text(16) // as the JS client writes it: no leading zeros
}

func TestCryptoSHA1AndPositions(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	requireNoError(t, err)
	e, seen := cryptoEnv(t, AppConfig{})
	c, s := e.connect()
	c.pub = &key.PublicKey
	text := `{"a":"héllo","n":[1,{"x":null}]}`
	for i, body := range []string{
		`{"a":"héllo","n":[1,{"x":null}],"__crypto__":"` + signHex(t, key, crypto.SHA1, text) + `"}`,
		`{"__crypto__":"` + signHex(t, key, crypto.SHA256, text) + `","a":"héllo","n":[1,{"x":null}]}`,
		`{"a":"héllo","__crypto__":"` + signHex(t, key, crypto.SHA256, text) + `","n":[1,{"x":null}]}`,
	} {
		e.call(c, s, uint32(i+1), "connector.h.m", body)
		requireDeepEqual(t, seen(), []string{text})
	}
	requireEqual(t, e.srv.Stats().BadSignature, uint64(0))
}

// With pomelo-protobuf bodies the signed text is the JSON rebuilt in wire order (the client's
// key order); the description must carry __crypto__ for the signature to travel.
func TestCryptoProtobufBody(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	requireNoError(t, err)
	protos, err := pomelopb.Parse([]byte(`{"connector.h.m":{"required string rid":1,"optional uInt32 n":2,"optional string __crypto__":3}}`))
	requireNoError(t, err)
	e, seen := cryptoEnv(t, AppConfig{ClientProtos: protos})
	c, s := e.connect()
	c.pub = &key.PublicKey
	text := `{"n":7,"rid":"r1"}` // the client's key order: n first
	signed := `{"n":7,"rid":"r1","__crypto__":"` + signHex(t, key, crypto.SHA256, text) + `"}`
	wire, err := protos.Lookup("connector.h.m").AppendWire(nil, []byte(signed))
	requireNoError(t, err)
	e.call(c, s, 1, "connector.h.m", string(wire))
	requireDeepEqual(t, seen(), []string{text})
	// Tampered: n changed on the wire.
	tampered, err := protos.Lookup("connector.h.m").AppendWire(nil, []byte(`{"n":8,"rid":"r1","__crypto__":"`+
		signHex(t, key, crypto.SHA256, text)+`"}`))
	requireNoError(t, err)
	requireEqual(t, string(e.call(c, s, 2, "connector.h.m", string(tampered)).Body), `{"code":500}`)
	requireEqual(t, len(seen()), 0)
}

func TestStripMember(t *testing.T) {
	for _, tc := range []struct{ in, out, val string }{
		{`{"a":1,"__crypto__":"ab"}`, `{"a":1}`, "ab"},
		{`{"__crypto__":"ab","a":1}`, `{"a":1}`, "ab"},
		{`{"__crypto__":"ab"}`, `{}`, "ab"},
		{` { "a" : 1 , "__crypto__" : "ab" , "b" : [ 1 , 2 ] } `, ` { "a" : 1  , "b" : [ 1 , 2 ] } `, "ab"},
		{`{"__crypto__":"x","a":{"__crypto__":"nested"},"__crypto__":"y"}`, `{"a":{"__crypto__":"nested"}}`, "y"},
		{`{"a":"}\"","__crypto__":"0f"}`, `{"a":"}\""}`, "0f"},
	} {
		out, val, err := stripMember(nil, []byte(tc.in), cryptoKey)
		requireNoError(t, err)
		requireEqual(t, string(out), tc.out)
		requireEqual(t, string(val), tc.val)
		// In place.
		buf := []byte(tc.in)
		out, _, err = stripMember(buf[:0], buf, cryptoKey)
		requireNoError(t, err)
		requireEqual(t, string(out), tc.out)
	}
	for _, bad := range []string{``, `[]`, `{`, `{"a":1`, `{"a" 1}`, `{"a":1,}`, `{"a":1}x`, `{}`, `{"a":1}`,
		`{"__crypto__":1}`, `{"__crypto__":"a\u0062"}`} {
		if _, _, err := stripMember(nil, []byte(bad), cryptoKey); err == nil {
			t.Errorf("stripMember(%q) succeeded", bad)
		}
	}
}

func TestVerifySignatureEdgeCases(t *testing.T) {
	_, pub := loadCryptoVectors(t)
	v, _ := loadCryptoVectors(t)
	good := []byte(v.Cases[0].SignatureHex)
	requireNoError(t, verifySignature(pub, []byte(v.Cases[0].BodyJSON), good))
	// Leading zero bytes are tolerated; odd length is padded; longer than the modulus fails.
	requireNoError(t, verifySignature(pub, []byte(v.Cases[0].BodyJSON), append([]byte("0000"), good...)))
	if verifySignature(pub, []byte(v.Cases[0].BodyJSON), append([]byte("01"), good...)) == nil {
		t.Fatal("oversized signature accepted")
	}
	if verifySignature(pub, []byte(v.Cases[0].BodyJSON), []byte("zz")) == nil {
		t.Fatal("non-hex signature accepted")
	}
	raw, _ := hex.DecodeString(string(good))
	raw[len(raw)-1] ^= 1
	if verifySignature(pub, []byte(v.Cases[0].BodyJSON), []byte(hex.EncodeToString(raw))) == nil {
		t.Fatal("corrupted signature accepted")
	}
}
