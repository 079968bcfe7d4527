package pomelopb_test

import (
	"encoding/hex"
	"fmt"

	"github.com/shaddock-io/shaddock/codec/pomelopb"
)

const serverProtos = `{
  "onChat": {"required string from": 1, "required string msg": 2, "optional string target": 3},
  "onMove": {
    "required uInt32 entityId": 1,
    "message Path": {"required uInt32 x": 1, "required uInt32 y": 2},
    "repeated Path path": 2,
    "required float speed": 3
  }
}`

// The handshake carries the parsed form of both files and their version (the version here was
// computed with pomelo-protobuf and Node crypto).
func ExampleParse() {
	server, err := pomelopb.Parse([]byte(`{"onChat":{"required string msg":1}}`))
	if err != nil {
		panic(err)
	}
	client, err := pomelopb.Parse([]byte(`{"chat.chatHandler.send":{"required string content":1}}`))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", server.AppendParsedJSON(nil))
	fmt.Println(pomelopb.Version(client, server))
	fmt.Println(pomelopb.Version(nil, nil) == "")
	// Output:
	// {"onChat":{"msg":{"option":"required","type":"string","tag":1},"__messages":{},"__tags":{"1":"msg"}}}
	// TYbvRmlrfH2WYkZ8ZnGhXw==
	// true
}

// Handlers that speak JSON text go through AppendWire and AppendJSON.
func ExampleMessage_AppendWire() {
	server, err := pomelopb.Parse([]byte(serverProtos))
	if err != nil {
		panic(err)
	}
	m := server.Lookup("onMove")
	wire, err := m.AppendWire(nil, []byte(`{"entityId":14,"path":[{"x":128,"y":796},{"x":677,"y":895}],"speed":160}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(hex.EncodeToString(wire))
	js, err := m.AppendJSON(nil, wire)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", js)
	// Output:
	// 080e1206088001109c06120608a50510ff061d00002043
	// {"entityId":14,"path":[{"x":128,"y":796},{"x":677,"y":895}],"speed":160}
}

// chatPush is a hand-written Go type for the onChat push. After UnmarshalPomelo its slices alias
// the wire bytes.
type chatPush struct {
	From, Msg, Target []byte
}

func (c *chatPush) UnmarshalPomelo(d *pomelopb.Decoder) error {
	*c = chatPush{}
	for {
		f, err := d.Next()
		if f == nil || err != nil {
			return err // nil at the end; required fields were checked
		}
		var b []byte
		if b, err = d.BytesUnsafe(); err != nil {
			return err
		}
		switch f.Tag() {
		case 1:
			c.From = b
		case 2:
			c.Msg = b
		case 3:
			c.Target = b
		}
	}
}

func (c *chatPush) MarshalPomelo(e *pomelopb.Encoder) {
	m := e.Current()
	e.Bytes(m.FieldByTag(1), c.From)
	e.Bytes(m.FieldByTag(2), c.Msg)
	if c.Target != nil {
		e.Bytes(m.FieldByTag(3), c.Target)
	}
}

// Go types can implement Marshaler and Unmarshaler on top of Encoder and Decoder, which check
// every call against the schema.
func ExampleDecoder() {
	server, err := pomelopb.Parse([]byte(serverProtos))
	if err != nil {
		panic(err)
	}
	m := server.Lookup("onChat")

	var e pomelopb.Encoder
	e.Reset(nil, m)
	(&chatPush{From: []byte("alice"), Msg: []byte("hi there"), Target: []byte("*")}).MarshalPomelo(&e)
	wire, err := e.Finish()
	if err != nil {
		panic(err)
	}
	fmt.Println(hex.EncodeToString(wire))

	var d pomelopb.Decoder
	var c chatPush
	d.Reset(m, wire)
	if err := c.UnmarshalPomelo(&d); err != nil {
		panic(err)
	}
	fmt.Printf("%s %s %s\n", c.From, c.Msg, c.Target)
	// Output:
	// 0a05616c696365120868692074686572651a012a
	// alice hi there *
}

// A Record holds any message in reusable Go values.
func ExampleRecord() {
	server, err := pomelopb.Parse([]byte(serverProtos))
	if err != nil {
		panic(err)
	}
	m := server.Lookup("onMove")
	path := m.FieldByName("path")
	x, y := path.Message().FieldByName("x"), path.Message().FieldByName("y")

	r := pomelopb.NewRecord(m)
	wire, _ := hex.DecodeString("080e1206088001109c06120608a50510ff061d00002043")
	if err := r.UnmarshalUnsafe(wire); err != nil {
		panic(err)
	}
	for _, p := range r.Subs(path) {
		fmt.Println(p.Number(x), p.Number(y))
	}
	r.SetNumber(m.FieldByName("speed"), 0.1)
	fmt.Printf("%s\n", r.AppendJSON(nil))
	// Output:
	// 128 796
	// 677 895
	// {"entityId":14,"path":[{"x":128,"y":796},{"x":677,"y":895}],"speed":0.1}
}
