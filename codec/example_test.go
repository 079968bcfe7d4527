package codec_test

import (
	"fmt"

	"github.com/shaddock-io/shaddock/codec"
)

func ExampleAppendPacket() {
	// A heartbeat, then a DATA package carrying a response, appended to one buffer.
	buf, _ := codec.AppendPacket(nil, codec.TypeHeartbeat, nil)
	msg := codec.AppendResponse(nil, 1, []byte(`{"code":200}`))
	buf, _ = codec.AppendPacket(buf, codec.TypeData, msg)
	fmt.Printf("% x\n", buf)
	// Output:
	// 03 00 00 00 04 00 00 0e 04 01 7b 22 63 6f 64 65 22 3a 32 30 30 7d
}

func ExampleBeginPacket() {
	// Build the same DATA package in place, without encoding the message into a separate buffer.
	buf, at := codec.BeginPacket(nil, codec.TypeData)
	buf = codec.AppendResponse(buf, 1, []byte(`{"code":200}`))
	if err := codec.EndPacket(buf, at); err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", buf)
	// Output:
	// 04 00 00 0e 04 01 7b 22 63 6f 64 65 22 3a 32 30 30 7d
}

func ExampleParsePacket() {
	// A request from a client: DATA, 13 bytes, route compressed to dictionary code 1.
	in := []byte{0x04, 0x00, 0x00, 0x0d, 0x01, 0x01, 0x00, 0x01, '{', '"', 'u', 'i', 'd', '"', ':', '1', '}'}
	p, n, err := codec.ParsePacket(in, 64<<10)
	if err != nil {
		panic(err)
	}
	var m codec.Message
	if err := codec.ParseMessage(p.Body, &m); err != nil {
		panic(err)
	}
	fmt.Println(p.Type, n, "bytes")
	fmt.Println(m.Type, "id", m.ID, "code", m.Code, string(m.Body))
	// Output:
	// data 17 bytes
	// request id 1 code 1 {"uid":1}
}

func ExampleDecoder() {
	// Three packages arrive in two reads; the second package is cut between them.
	stream := []byte{
		0x03, 0x00, 0x00, 0x00, // heartbeat
		0x04, 0x00, 0x00, 0x07, '{', '"', 'a', '"', ':', '1', '}', // data {"a":1}
		0x05, 0x00, 0x00, 0x02, '{', '}', // kick {}
	}
	reads := [][]byte{stream[:10], stream[10:]}

	var d codec.Decoder
	d.SetMaxBody(1 << 10) // small until the handshake is done
	for _, read := range reads {
		d.Feed(read)
		for {
			p, err := d.Next()
			if err == codec.ErrNeedMore {
				break
			}
			if err != nil {
				fmt.Println("close the connection:", err)
				return
			}
			fmt.Printf("%s %q\n", p.Type, p.Body) // p.Body is valid until the next Next or Feed
		}
	}
	// Output:
	// heartbeat ""
	// data "{\"a\":1}"
	// kick "{}"
}
