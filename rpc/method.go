package rpc

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
)

// Appender is the encoding fast path for arguments and results: AppendRPC appends the value's
// encoding to dst and returns the extended slice. The transport calls it with dst pointing into a
// connection's outbound buffer, so an implementation that appends directly (pack.AppendInt and
// friends, or any hand-written layout) costs no allocation and no copy. On error it must return
// an error; the transport then discards whatever was appended.
type Appender interface {
	AppendRPC(dst []byte) ([]byte, error)
}

// Decoder is the decoding fast path: DecodeRPC decodes b into the receiver. b is borrowed: it is
// valid only until DecodeRPC returns, so anything kept must be copied. Decoding into a reused
// value with in-place reads (pack.Decoder) costs no allocation.
type Decoder interface {
	DecodeRPC(b []byte) error
}

// Raw is an already encoded argument or result. Raw implements Appender (appends itself) and
// *Raw implements Decoder (copies b into its own storage, reusing its capacity).
type Raw []byte

// AppendRPC appends r.
func (r Raw) AppendRPC(dst []byte) ([]byte, error) { return append(dst, r...), nil }

// DecodeRPC copies b into r.
func (r *Raw) DecodeRPC(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// MethodName names a remote method the way pomelo does: namespace ("sys" for the framework's
// remotes, "user" for the application's), service (the remote file) and method. Each part is at
// most MaxNameLen bytes.
type MethodName struct {
	Namespace, Service, Method string
}

// String returns "namespace.service.method".
func (n MethodName) String() string { return n.Namespace + "." + n.Service + "." + n.Method }

func (n MethodName) check() error {
	if len(n.Namespace) > MaxNameLen || len(n.Service) > MaxNameLen || len(n.Method) > MaxNameLen {
		return ErrNameTooLong
	}
	return nil
}

// Method-table errors.
var (
	ErrTooManyMethods = errors.New("rpc: more than 65536 methods in one table")
	ErrForeignMethod  = errors.New("rpc: Method handle from another method table (or the zero Method)")
)

// Methods is the table of remote methods a client calls. Each name gets a small id, in order of
// first use, and that id is what a CALL frame carries; a connection DECLAREs a name to the server
// the first time it calls it. One table is shared by every Client that uses it (a Station shares
// one among all its mailboxes), so a Method handle works with each of them.
//
// The table only grows. Methods is safe for concurrent use.
type Methods struct {
	mu     sync.Mutex
	byName map[MethodName]uint16        // mu
	names  atomic.Pointer[[]MethodName] // copy on write under mu; readers load without a lock
}

// NewMethods returns an empty table.
func NewMethods() *Methods { return &Methods{byName: make(map[MethodName]uint16)} }

// Method returns the handle of name, adding name to the table on first use.
func (t *Methods) Method(name MethodName) (Method, error) {
	if err := name.check(); err != nil {
		return Method{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.byName[name]; ok {
		return Method{t: t, id: id}, nil
	}
	old := t.list()
	if len(old) > math.MaxUint16 {
		return Method{}, ErrTooManyMethods
	}
	grown := make([]MethodName, len(old)+1)
	copy(grown, old)
	grown[len(old)] = name
	id := uint16(len(old))
	t.byName[name] = id
	t.names.Store(&grown)
	return Method{t: t, id: id}, nil
}

// MustMethod is Method for names known to be valid (literals); it panics on error.
func (t *Methods) MustMethod(namespace, service, method string) Method {
	m, err := t.Method(MethodName{namespace, service, method})
	if err != nil {
		panic(err)
	}
	return m
}

// list returns the current names; ids index it.
func (t *Methods) list() []MethodName {
	if p := t.names.Load(); p != nil {
		return *p
	}
	return nil
}

// name returns the name of id, which must have been handed out by t.
func (t *Methods) name(id uint16) MethodName { return t.list()[id] }

// Method is a handle on one entry of a Methods table. It is a small value, cheap to copy and
// compare; the zero Method is not valid.
type Method struct {
	t  *Methods
	id uint16
}

// Name returns the method's name.
func (m Method) Name() MethodName {
	if m.t == nil {
		return MethodName{}
	}
	return m.t.name(m.id)
}

// ID returns the method's id in its table (the number CALL frames carry).
func (m Method) ID() uint16 { return m.id }
