package pomelopb

import (
	"crypto/md5"
	"encoding/base64"
	"slices"
	"strconv"
)

// jsOrder returns the indexes of keys in the order JavaScript enumerates an object's own keys:
// array indexes ("0", "7", "300") in ascending numeric order first, then the other keys in
// insertion order.
func jsOrder(keys []string) []int {
	order := make([]int, 0, len(keys))
	for i, k := range keys {
		if _, ok := arrayIndex(k); ok {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		x, _ := arrayIndex(keys[a])
		y, _ := arrayIndex(keys[b])
		return int(int64(x) - int64(y))
	})
	for i, k := range keys {
		if _, ok := arrayIndex(k); !ok {
			order = append(order, i)
		}
	}
	return order
}

// arrayIndex reports whether k is the canonical decimal form of an integer below 2^32-1, which
// JavaScript objects order before their other keys.
func arrayIndex(k string) (uint32, bool) {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return 0, false
		}
		v = v*10 + uint64(k[i]-'0')
	}
	if v >= 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// appendParsed appends JSON.stringify of the object pomelo's parser builds for the table.
func (t *Table) appendParsed(dst []byte) []byte {
	dst = append(dst, '{')
	for i, key := range t.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSString(dst, []byte(key), true)
		dst = append(dst, ':')
		dst = t.byKey[key].appendParsed(dst)
	}
	return append(dst, '}')
}

// appendParsed appends the parsed form of one message:
// {"<field>":{"option":..,"type":..,"tag":n},...,"__messages":{...},"__tags":{"<tag>":"<field>"}}.
// Field names that are array indexes come first, as they do in a JavaScript object.
func (m *Message) appendParsed(dst []byte) []byte {
	names := make([]string, len(m.fields))
	for i := range m.fields {
		names[i] = m.fields[i].name
	}
	dst = append(dst, '{')
	for _, i := range jsOrder(names) {
		f := &m.fields[i]
		dst = append(dst, f.key...)
		dst = append(dst, `{"option":`...)
		dst = appendJSString(dst, []byte(f.rule.String()), false)
		dst = append(dst, `,"type":`...)
		dst = appendJSString(dst, []byte(f.typeName), true)
		dst = append(dst, `,"tag":`...)
		dst = strconv.AppendUint(dst, uint64(f.tag), 10)
		dst = append(dst, "},"...)
	}
	dst = append(dst, `"__messages":{`...)
	dst = appendNested(dst, m.nested)
	dst = append(dst, `},"__tags":{`...)
	dst = m.appendTags(dst)
	return append(dst, "}}"...)
}

func appendNested(dst []byte, nested []*Message) []byte {
	names := make([]string, len(nested))
	for i, n := range nested {
		names[i] = n.name
	}
	for j, i := range jsOrder(names) {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSString(dst, []byte(nested[i].name), true)
		dst = append(dst, ':')
		dst = nested[i].appendParsed(dst)
	}
	return dst
}

// appendTags appends the members of __tags: tags are array indexes, so they come in numeric order.
func (m *Message) appendTags(dst []byte) []byte {
	byTag := make([]*Field, len(m.fields))
	for i := range m.fields {
		byTag[i] = &m.fields[i]
	}
	slices.SortFunc(byTag, func(a, b *Field) int { return int(int64(a.tag) - int64(b.tag)) })
	for i, f := range byTag {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, uint64(f.tag), 10)
		dst = append(dst, `":`...)
		dst = append(dst, f.key[:len(f.key)-1]...)
	}
	return dst
}

// Version returns pomelo's protoVersion for a pair of description tables:
// base64(md5(JSON.stringify(parsedClient) + JSON.stringify(parsedServer))), the client table
// first. A nil table stands for an absent file and counts as {}; when both are absent the
// version is "", as pomelo leaves it.
func Version(client, server *Table) string {
	if client == nil && server == nil {
		return ""
	}
	h := md5.New()
	h.Write(client.AppendParsedJSON(nil))
	h.Write(server.AppendParsedJSON(nil))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
