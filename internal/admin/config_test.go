package admin

import (
	"errors"
	"testing"
	"time"
)

func TestConfigListenAddr(t *testing.T) {
	cases := []struct {
		addr   string
		remote bool
		want   string
		err    error
	}{
		{addr: ":9100", want: "127.0.0.1:9100"},
		{addr: ":0", want: "127.0.0.1:0"},
		{addr: "127.0.0.1:9100", want: "127.0.0.1:9100"},
		{addr: "127.0.0.2:9100", want: "127.0.0.2:9100"},
		{addr: "[::1]:9100", want: "[::1]:9100"},
		{addr: "localhost:9100", want: "127.0.0.1:9100"},
		{addr: "0.0.0.0:9100", err: ErrRemoteNotAllowed},
		{addr: "[::]:9100", err: ErrRemoteNotAllowed},
		{addr: "10.0.0.5:9100", err: ErrRemoteNotAllowed},
		{addr: "admin.example.com:9100", err: ErrRemoteNotAllowed},
		{addr: "0.0.0.0:9100", remote: true, want: "0.0.0.0:9100"},
		{addr: ":9100", remote: true, want: ":9100"},
		{addr: "admin.example.com:9100", remote: true, want: "admin.example.com:9100"},
		{addr: "9100", err: ErrConfig},
		{addr: "127.0.0.1", err: ErrConfig},
	}
	for _, c := range cases {
		cfg := Config{Addr: c.addr, AllowRemote: c.remote}
		got, err := cfg.listenAddr()
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q remote=%v: err %v, want %v", c.addr, c.remote, err, c.err)
			}
			if verr := cfg.Validate(); !errors.Is(verr, c.err) {
				t.Errorf("%q remote=%v: Validate %v, want %v", c.addr, c.remote, verr, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q remote=%v: got %q, %v; want %q", c.addr, c.remote, got, err, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	var zero Config
	requireNoError(t, zero.Validate(), "zero Config")
	requireEqual(t, zero.Enabled(), false, "zero Config enabled")
	for _, cfg := range []Config{
		{ReadHeaderTimeout: -1}, {IdleTimeout: -time.Second}, {MaxProfile: -1, Addr: ":1"},
	} {
		if err := cfg.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: Validate %v, want ErrConfig", cfg, err)
		}
	}
}
