package main

import (
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shaddock-io/shaddock/codec"
	pc "github.com/shaddock-io/shaddock/internal/pomeloclient"
)

func clientCmd(args []string) error {
	fs := newFlags("client")
	addr := fs.String("addr", "127.0.0.1:3390", "server address")
	n := fs.Int("n", 1000, "connections")
	transport := fs.String("transport", "tcp", "tcp or ws")
	sources := fs.Int("sources", 4, "loopback source addresses 127.0.0.2..")
	fs.Parse(args)

	tr := pc.TCP
	switch *transport {
	case "tcp":
	case "ws":
		tr = pc.WS
	default:
		return fmt.Errorf("unknown transport %q", *transport)
	}
	var open, failed, beats atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64) // concurrent handshakes
	for i := 0; i < *n; i++ {
		sem <- struct{}{}
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%*sources))}
		c, err := pc.Connect(*addr, pc.Options{Transport: tr, LocalAddr: src, Timeout: time.Minute})
		<-sem
		if err != nil {
			failed.Add(1)
			fmt.Fprintln(os.Stderr, "connect:", err)
			continue
		}
		open.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			heartbeats(c, &beats)
		}()
	}
	fmt.Printf("{\"open\":%d,\"failed\":%d}\n", open.Load(), failed.Load())
	go func() {
		for range time.Tick(5 * time.Second) {
			fmt.Fprintf(os.Stderr, "client: open=%d heartbeats=%d\n", open.Load(), beats.Load())
		}
	}()
	wg.Wait()
	return nil
}

// heartbeats behaves like the JS client: every heartbeat from the server is answered after the
// announced interval.
func heartbeats(c *pc.Client, beats *atomic.Int64) {
	defer c.Close()
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return
		}
		if p.Type != codec.TypeHeartbeat {
			continue
		}
		beats.Add(1)
		if c.Heartbeat > 0 {
			time.Sleep(c.Heartbeat)
		}
		if c.SendHeartbeat() != nil {
			return
		}
	}
}
