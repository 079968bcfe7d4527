package chatapp

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/shaddock-io/shaddock/internal/pomeloclient"
)

// useCrypto over the wire: the client sends sys.rsa in its handshake and signs its bodies; a bad
// signature is answered {"code":500} (pomelo would leave the request hanging) and counted.
func TestUseCrypto(t *testing.T) {
	data, err := os.ReadFile("testdata/crypto.json")
	requireNoError(t, err)
	var v struct {
		RSA   json.RawMessage `json:"handshake_sys_rsa"`
		Cases []struct {
			BodyJSON       string `json:"body_json"`
			SignedBodyJSON string `json:"signed_body_json"`
			Valid          bool   `json:"valid"`
		} `json:"cases"`
	}
	requireNoError(t, json.Unmarshal(data, &v))
	d := startDemoConfig(t, Config{Files: os.DirFS("../config"), UseCrypto: true})
	addr := d.Connector.Addr().String()
	for _, tr := range transports {
		// Without a key the handshake is refused.
		c, err := pomeloclient.Dial(addr, pomeloclient.Options{Transport: tr})
		requireNoError(t, err)
		hs, _ := c.Handshake(nil)
		requireEqual(t, string(hs.Raw), `{"code":500}`)
		c.Close()

		c, err = pomeloclient.Dial(addr, pomeloclient.Options{Transport: tr})
		requireNoError(t, err)
		defer c.Close()
		_, err = c.Handshake(pomeloclient.HandshakeBody(`"rsa":`+string(v.RSA), nil))
		requireNoError(t, err)
		requireNoError(t, c.Ack())
		for i, tc := range v.Cases {
			bad := d.Connector.Stats().BadSignature
			m := call(t, c, uint32(i+1), "connector.entryHandler.echo", []byte(tc.SignedBodyJSON))
			if tc.Valid {
				requireEqual(t, string(m.Body), tc.BodyJSON)
				requireEqual(t, d.Connector.Stats().BadSignature, bad)
			} else {
				requireEqual(t, string(m.Body), `{"code":500}`)
				requireEqual(t, d.Connector.Stats().BadSignature, bad+1)
			}
		}
		m := call(t, c, 99, "connector.entryHandler.echo", []byte(`{"unsigned":`+strconv.Itoa(1)+`}`))
		requireEqual(t, string(m.Body), `{"code":500}`)
	}
}
