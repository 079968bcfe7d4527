package main

import (
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shaddock-io/shaddock/engine/cluster"
)

func options(t *testing.T, args ...string) (cluster.Options, error) {
	t.Helper()
	f, err := parseFlags(args)
	if err != nil {
		return cluster.Options{}, err
	}
	files, err := configFiles(f.configDir)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := clusterOptions(f, files, slog.New(slog.DiscardHandler))
	if f.clientLn != nil {
		f.clientLn.Close()
	}
	return opts, err
}

func ids(opts cluster.Options) []string {
	sel, err := cluster.Select(opts.Servers, opts.Types, opts.IDs)
	if err != nil {
		return nil
	}
	var out []string
	for _, si := range sel {
		out = append(out, si.ID)
	}
	return out
}

func TestDefaultIsTheEmbeddedDemo(t *testing.T) {
	opts, err := options(t)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Mode != cluster.Embedded || opts.Env != "development" || opts.Master.Addr() != "127.0.0.1:3005" {
		t.Fatalf("mode %v env %q master %v", opts.Mode, opts.Env, opts.Master)
	}
	if got := ids(opts); !reflect.DeepEqual(got, []string{"connector-server-1", "chat-server-1"}) {
		t.Fatalf("servers %v", got)
	}
	c := opts.Servers[0]
	if c.ClientAddr() != "127.0.0.1:3010" || c.RPCAddr() != "127.0.0.1:3150" || opts.Servers[1].RPCAddr() != "127.0.0.1:6050" {
		t.Fatalf("addresses %v %v %v", c.ClientAddr(), c.RPCAddr(), opts.Servers[1].RPCAddr())
	}
	// The embedded copy is examples/chat/config.
	for _, name := range []string{"servers.json", "master.json", "dictionary.json", "clientProtos.json", "serverProtos.json"} {
		a, err := fs.ReadFile(embedded, "config/"+name)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join("config", name))
		if err != nil || string(a) != string(b) {
			t.Fatalf("%s: embedded copy differs (%v)", name, err)
		}
	}
}

func TestModesAndFilters(t *testing.T) {
	opts, err := options(t, "-config", "config-cluster", "-mode", "master", "-type", "chat", "-quiet", "-buffered", "10ms", "-rpc-buffer", "2ms", "-inline")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Mode != cluster.Master || !reflect.DeepEqual(ids(opts), []string{"chat-server-1", "chat-server-2"}) {
		t.Fatalf("mode %v servers %v", opts.Mode, ids(opts))
	}
	abs, _ := filepath.Abs("config-cluster")
	if want := []string{"-config", abs, "-buffered", "10ms", "-rpc-buffer", "2ms", "-inline", "-quiet"}; !reflect.DeepEqual(opts.Args, want) {
		t.Fatalf("server arguments %q, want %q", opts.Args, want)
	}
	opts, err = options(t, "-config", "config-cluster", "-id", "connector-server-2,chat-server-1")
	if err != nil || opts.Mode != cluster.Embedded || !reflect.DeepEqual(ids(opts), []string{"connector-server-2", "chat-server-1"}) {
		t.Fatalf("%v %v %v", err, opts.Mode, ids(opts))
	}
	// What pomelo's CLI passes to a master: env, type, startId.
	opts, err = options(t, "-config", "config-cluster", "-env", "x", "env=production", "type=connector", "startId=connector-server-1")
	if err != nil || opts.Env != "production" || !reflect.DeepEqual(ids(opts), []string{"connector-server-1"}) {
		t.Fatalf("%v %q %v", err, opts.Env, ids(opts))
	}
	// What a master passes to a server.
	opts, err = options(t, "-config", "config-cluster", "env=production", "serverType=chat", "id=chat-server-2", "port=6051")
	if err != nil || opts.Mode != cluster.Single || opts.ServerID != "chat-server-2" || opts.Env != "production" {
		t.Fatalf("%v %v %q %q", err, opts.Mode, opts.ServerID, opts.Env)
	}
	opts, err = options(t, "-mode", "server", "-id", "chat-server-1")
	if err != nil || opts.Mode != cluster.Single || opts.ServerID != "chat-server-1" {
		t.Fatalf("%v %v %q", err, opts.Mode, opts.ServerID)
	}
	// -addr: the first frontend run here, listening before the servers start.
	opts, err = options(t, "-addr", "127.0.0.1:0")
	if err != nil || opts.ServerOptions == nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"-mode", "server"},                         // no id
		{"-mode", "cluster"},                        // no such mode
		{"-mode", "master", "-addr", "127.0.0.1:0"}, // -addr is per process
		{"-type", "chat", "-addr", "127.0.0.1:0"},   // no frontend here
		{"-type", "gate"},                           // unknown type: caught by Run, not here
		{"notkeyvalue"},
		{"-env", "staging"},
	} {
		opts, err := options(t, bad...)
		if err == nil && bad[0] == "-type" && bad[1] == "gate" {
			if _, err := cluster.Select(opts.Servers, opts.Types, opts.IDs); err == nil {
				t.Fatalf("%q: selected", bad)
			}
			continue
		}
		if err == nil {
			t.Fatalf("%q: no error", bad)
		}
	}
}
