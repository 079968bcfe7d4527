package pack

import (
	"errors"
	"slices"
)

// ErrUnsupported is returned by AppendAny for a Go value it has no encoding for.
var ErrUnsupported = errors.New("pack: unsupported Go type")

// appender is the fast path of package rpc (rpc.Appender), recognised inside AppendAny.
type appender interface {
	AppendRPC(dst []byte) ([]byte, error)
}

// AppendAny appends a Go value without reflection: nil, bool, every int and uint type, float32,
// float64, string, []byte, []any, []string, map[string]any, map[string]string, and any value with
// an AppendRPC method. Maps are written with their keys sorted. On error dst is returned
// unchanged (truncated to its original length) with ErrUnsupported or ErrTooDeep.
func AppendAny(dst []byte, v any) ([]byte, error) {
	out, err := appendAny(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendAny(dst []byte, v any, depth int) ([]byte, error) {
	if out, ok := appendScalar(dst, v); ok {
		return out, nil
	}
	if depth >= MaxDepth {
		return dst, ErrTooDeep
	}
	switch x := v.(type) {
	case []any:
		return appendList(dst, x, depth+1)
	case []string:
		dst = AppendArrayHeader(dst, len(x))
		for _, s := range x {
			dst = AppendString(dst, s)
		}
		return dst, nil
	case map[string]any:
		return appendMap(dst, x, depth+1)
	case map[string]string:
		dst = AppendMapHeader(dst, len(x))
		for _, k := range sortedKeys(x) {
			dst = AppendString(AppendKey(dst, k), x[k])
		}
		return dst, nil
	case appender:
		return x.AppendRPC(dst)
	}
	return dst, ErrUnsupported
}

// appendScalar appends v if it is a scalar type.
func appendScalar(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return AppendNil(dst), true
	case bool:
		return AppendBool(dst, x), true
	case string:
		return AppendString(dst, x), true
	case []byte:
		return AppendBytes(dst, x), true
	case float64:
		return AppendFloat64(dst, x), true
	case float32:
		return AppendFloat32(dst, x), true
	}
	return appendInteger(dst, v)
}

// appendInteger appends v if it is one of Go's integer types.
func appendInteger(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int:
		return AppendInt(dst, int64(x)), true
	case int8:
		return AppendInt(dst, int64(x)), true
	case int16:
		return AppendInt(dst, int64(x)), true
	case int32:
		return AppendInt(dst, int64(x)), true
	case int64:
		return AppendInt(dst, x), true
	case uint:
		return AppendUint(dst, uint64(x)), true
	case uint8:
		return AppendUint(dst, uint64(x)), true
	case uint16:
		return AppendUint(dst, uint64(x)), true
	case uint32:
		return AppendUint(dst, uint64(x)), true
	case uint64:
		return AppendUint(dst, x), true
	}
	return dst, false
}

func appendList(dst []byte, l []any, depth int) ([]byte, error) {
	dst = AppendArrayHeader(dst, len(l))
	for _, e := range l {
		var err error
		if dst, err = appendAny(dst, e, depth); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func appendMap(dst []byte, m map[string]any, depth int) ([]byte, error) {
	dst = AppendMapHeader(dst, len(m))
	for _, k := range sortedKeys(m) {
		var err error
		if dst, err = appendAny(AppendKey(dst, k), m[k], depth); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Any consumes the next value and returns it as a Go value: nil, bool, int64, uint64, float64,
// float32, string, []byte, []any or map[string]any (a repeated key keeps its last value). Strings
// and byte strings are copied, so the result does not alias the input. It allocates; use the
// typed methods on hot paths.
func (d *Decoder) Any() any { return d.anyAt(0) }

func (d *Decoder) anyAt(depth int) any {
	switch d.Kind() {
	case KindNil:
		d.Nil()
		return nil
	case KindBool:
		return d.Bool()
	case KindInt:
		return d.Int()
	case KindUint:
		return d.Uint()
	case KindFloat64:
		return d.Float()
	case KindFloat32:
		return d.Float32()
	case KindString:
		return d.String()
	case KindBytes:
		return append([]byte{}, d.BytesUnsafe()...)
	case KindArray, KindMap:
		return d.container(depth)
	}
	d.invalid()
	return nil
}

func (d *Decoder) container(depth int) any {
	if depth >= MaxDepth {
		d.fail(ErrTooDeep)
		return nil
	}
	if d.Kind() == KindArray {
		l := make([]any, d.ArrayLen())
		for i := range l {
			l[i] = d.anyAt(depth + 1)
		}
		return l
	}
	n := d.MapLen()
	m := make(map[string]any, n)
	for ; n > 0 && d.err == nil; n-- {
		k := d.Key()
		m[k] = d.anyAt(depth + 1)
	}
	return m
}

// List is a list of Go values encoded as one array: the generic, self-describing form of RPC
// arguments and results (pomelo's "args" array). It implements rpc.Appender, and *List
// implements rpc.Decoder; decoding replaces the contents with freshly allocated values.
type List []any

// AppendRPC appends l as an array (see AppendAny for the element types).
func (l List) AppendRPC(dst []byte) ([]byte, error) {
	out, err := appendList(dst, l, 1)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// DecodeRPC decodes b, which must hold exactly one array, into l.
func (l *List) DecodeRPC(b []byte) error {
	d := NewDecoder(b)
	if d.Kind() != KindArray {
		d.ArrayLen() // records the error
		return d.Done()
	}
	v, _ := d.Any().([]any)
	if err := d.Done(); err != nil {
		return err
	}
	*l = v
	return nil
}

// Value holds one Go value encoded on its own (see AppendAny and Decoder.Any). It implements
// rpc.Appender, and *Value implements rpc.Decoder.
type Value struct{ V any }

// AppendRPC appends v.V.
func (v Value) AppendRPC(dst []byte) ([]byte, error) { return AppendAny(dst, v.V) }

// DecodeRPC decodes b, which must hold exactly one value, into v.V.
func (v *Value) DecodeRPC(b []byte) error {
	d := NewDecoder(b)
	x := d.Any()
	if err := d.Done(); err != nil {
		return err
	}
	v.V = x
	return nil
}
