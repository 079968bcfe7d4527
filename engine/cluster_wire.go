package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/shaddock-io/shaddock/codec"
	"github.com/shaddock-io/shaddock/rpc"
	"github.com/shaddock-io/shaddock/rpc/pack"
)

// The arguments and results of the sys remotes, in package pack's encoding. Each type encodes
// with AppendRPC straight into the RPC connection's outbound buffer; the decoders read in place.
// The layouts are drawn in doc.go ("Sys remotes on the wire").

// ErrWire reports sys remote arguments or results that do not have the expected layout.
var ErrWire = errors.New("engine: malformed sys remote payload")

// Field counts of the arrays.
const (
	forwardFields   = 8
	forwardResults  = 3
	exportFields    = 4
	sessionOpFields = 5
	pushFields      = 3
	castFields      = 4
)

// forwardArgs are msgRemote.forwardMessage's arguments as the frontend encodes them: the client
// message (id, type, route, body as JSON text) and the session snapshot (id, frontend id, uid,
// settings). The frontend's Context owns one and reuses it.
type forwardArgs struct {
	id       uint32
	typ      codec.MessageType
	route    string
	body     []byte
	sid      uint64
	frontend string
	uid      string
	settings []byte // a pack map, already encoded
}

// AppendRPC implements rpc.Appender.
func (a *forwardArgs) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, forwardFields)
	dst = pack.AppendUint(pack.AppendUint(dst, uint64(a.id)), uint64(a.typ))
	dst = pack.AppendBytes(pack.AppendString(dst, a.route), a.body)
	dst = pack.AppendString(pack.AppendUint(dst, a.sid), a.frontend)
	dst = appendOptString(dst, a.uid)
	if len(a.settings) == 0 {
		return pack.AppendMapHeader(dst, 0), nil
	}
	return append(dst, a.settings...), nil
}

// appendOptString appends s, or nil for "" (an unbound uid is null, as in pomelo's export).
func appendOptString(dst []byte, s string) []byte {
	if s == "" {
		return pack.AppendNil(dst)
	}
	return pack.AppendString(dst, s)
}

// optStringUnsafe reads a string or nil, aliasing the input.
func optStringUnsafe(d *pack.Decoder) []byte {
	if d.IsNil() {
		return nil
	}
	return d.StringBytesUnsafe()
}

// forwardIn is forwardArgs decoded in place: the slices alias the RPC arguments and are valid
// only while the handler runs.
type forwardIn struct {
	id       uint32
	typ      codec.MessageType
	route    []byte
	body     []byte
	sid      uint64
	frontend []byte
	uid      []byte
	settings []byte // the raw pack map
}

func (a *forwardIn) decode(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != forwardFields && d.Err() == nil {
		return fmt.Errorf("%w: forwardMessage has %d fields", ErrWire, n)
	}
	id, typ := d.Uint(), d.Uint()
	a.route, a.body = d.StringBytesUnsafe(), d.BytesUnsafe()
	a.sid, a.frontend = d.Uint(), d.StringBytesUnsafe()
	a.uid = optStringUnsafe(&d)
	a.settings = d.RawUnsafe()
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: forwardMessage: %w", ErrWire, err)
	}
	if id > math.MaxUint32 || (typ != uint64(codec.Request) && typ != uint64(codec.Notify)) {
		return fmt.Errorf("%w: forwardMessage id %d type %d", ErrWire, id, typ)
	}
	a.id, a.typ = uint32(id), codec.MessageType(typ)
	return nil
}

// forwardOut is the backend's answer to a forwarded request: code 0 and the response body, or
// the error's code (what the client is answered with) and message, and the body the client gets
// for it ({"code":N}, or what an error handler produced). The body is JSON text (standard
// protobuf for routes whose response type is a generated protobuf message).
type forwardOut struct {
	code int
	msg  string
	body []byte
}

// AppendRPC implements rpc.Appender.
func (r *forwardOut) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, forwardResults)
	dst = pack.AppendString(pack.AppendInt(dst, int64(r.code)), r.msg)
	return pack.AppendBytes(dst, r.body), nil
}

// forwardRes is forwardOut decoded on the frontend into storage it owns and reuses.
type forwardRes struct {
	code int
	msg  []byte
	body json.RawMessage
}

// DecodeRPC implements rpc.Decoder.
func (r *forwardRes) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != forwardResults && d.Err() == nil {
		return fmt.Errorf("%w: forwardMessage result has %d fields", ErrWire, n)
	}
	code := d.Int()
	r.msg = append(r.msg[:0], d.StringBytesUnsafe()...)
	r.body = append(r.body[:0], d.BytesUnsafe()...)
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: forwardMessage result: %w", ErrWire, err)
	}
	if code < math.MinInt32 || code > math.MaxInt32 {
		return fmt.Errorf("%w: forwardMessage code %d", ErrWire, code)
	}
	r.code = int(code)
	return nil
}

// appendSettingsMap appends settings as a pack map, keys in map order. Values that pack cannot
// encode travel as their JSON form (as pomelo's settings do).
func appendSettingsMap(dst []byte, m map[string]any) []byte {
	dst = pack.AppendMapHeader(dst, len(m))
	for k, v := range m {
		dst = appendSetting(pack.AppendKey(dst, k), v)
	}
	return dst
}

// appendSetting appends one setting value; see appendSettingsMap.
func appendSetting(dst []byte, v any) []byte {
	if out, err := pack.AppendAny(dst, v); err == nil {
		return out
	}
	text, err := json.Marshal(v)
	if err != nil {
		return pack.AppendNil(dst)
	}
	var generic any
	if json.Unmarshal(text, &generic) != nil {
		return pack.AppendNil(dst)
	}
	if out, err := pack.AppendAny(dst, generic); err == nil {
		return out
	}
	return pack.AppendNil(dst)
}

// decodeSettings decodes a pack map of settings.
func decodeSettings(d *pack.Decoder) map[string]any {
	n := d.MapLen()
	if n == 0 {
		return nil
	}
	m := make(map[string]any, n)
	for ; n > 0 && d.Err() == nil; n-- {
		k := d.Key()
		m[k] = d.Any()
	}
	return m
}

// exportList is the result of getBackendSessionBySid (zero or one export) and
// getBackendSessionsByUid: an array of {id, frontendId, uid, settings}.
type exportList []SessionExport

// AppendRPC implements rpc.Appender.
func (l *exportList) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, len(*l))
	for i := range *l {
		e := &(*l)[i]
		dst = pack.AppendArrayHeader(dst, exportFields)
		dst = pack.AppendString(pack.AppendUint(dst, e.ID), e.FrontendID)
		dst = appendSettingsMap(appendOptString(dst, e.UID), e.Settings)
	}
	return dst, nil
}

// DecodeRPC implements rpc.Decoder.
func (l *exportList) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	n := d.ArrayLen()
	out := make(exportList, 0, n)
	for ; n > 0 && d.Err() == nil; n-- {
		if k := d.ArrayLen(); k != exportFields && d.Err() == nil {
			return fmt.Errorf("%w: session export has %d fields", ErrWire, k)
		}
		var e SessionExport
		e.ID, e.FrontendID = d.Uint(), d.String()
		e.UID = string(optStringUnsafe(&d))
		e.Settings = decodeSettings(&d)
		out = append(out, e)
	}
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: session exports: %w", ErrWire, err)
	}
	*l = out
	return nil
}

// sessionOp are the arguments of every sessionRemote method: each uses the fields it needs
// (bind, unbind: sid, uid; push: sid, key, value; pushAll: sid, value (the settings map);
// getBackendSessionBySid: sid; getBackendSessionsByUid: uid; kickBySid: sid, reason;
// kickByUid: uid, reason).
type sessionOp struct {
	sid    uint64
	uid    string
	key    string
	value  any
	reason string
}

// AppendRPC implements rpc.Appender.
func (o *sessionOp) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, sessionOpFields)
	dst = pack.AppendString(pack.AppendUint(dst, o.sid), o.uid)
	dst = appendSetting(pack.AppendString(dst, o.key), o.value)
	return pack.AppendString(dst, o.reason), nil
}

// DecodeRPC implements rpc.Decoder.
func (o *sessionOp) DecodeRPC(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != sessionOpFields && d.Err() == nil {
		return fmt.Errorf("%w: sessionRemote has %d fields", ErrWire, n)
	}
	o.sid, o.uid, o.key = d.Uint(), d.String(), d.String()
	o.value = d.Any()
	o.reason = d.String()
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: sessionRemote: %w", ErrWire, err)
	}
	return nil
}

// rawArgs are arguments encoded beforehand (channel pushes encode them under the channel's lock,
// into a pooled buffer).
type rawArgs struct{ b []byte }

// AppendRPC implements rpc.Appender.
func (r *rawArgs) AppendRPC(dst []byte) ([]byte, error) { return append(dst, r.b...), nil }

// appendPushArgsHeader appends the start of channelRemote.pushMessage's arguments: route, the
// message (JSON text) and the header of the uid array; the caller appends n uids with
// pack.AppendString.
func appendPushArgsHeader(dst []byte, route string, msg []byte, n int) []byte {
	dst = pack.AppendArrayHeader(dst, pushFields)
	dst = pack.AppendBytes(pack.AppendString(dst, route), msg)
	return pack.AppendArrayHeader(dst, n)
}

// pushIn is channelRemote.pushMessage's arguments decoded in place; uids is positioned on the
// uid array's first element, count is its length.
type pushIn struct {
	route, msg []byte
	uids       pack.Decoder
	count      int
}

func (p *pushIn) decode(b []byte) error {
	p.uids = pack.NewDecoder(b)
	d := &p.uids
	if n := d.ArrayLen(); n != pushFields && d.Err() == nil {
		return fmt.Errorf("%w: pushMessage has %d fields", ErrWire, n)
	}
	p.route, p.msg = d.StringBytesUnsafe(), d.BytesUnsafe()
	p.count = d.ArrayLen()
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: pushMessage: %w", ErrWire, err)
	}
	return nil
}

// uidList is a list of uids: the failed uids a pushMessage answers (an empty answer means
// none failed).
type uidList []string

// AppendRPC implements rpc.Appender.
func (l *uidList) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, len(*l))
	for _, u := range *l {
		dst = pack.AppendString(dst, u)
	}
	return dst, nil
}

// DecodeRPC implements rpc.Decoder.
func (l *uidList) DecodeRPC(b []byte) error {
	*l = (*l)[:0]
	if len(b) == 0 {
		return nil
	}
	d := pack.NewDecoder(b)
	for n := d.ArrayLen(); n > 0 && d.Err() == nil; n-- {
		*l = append(*l, d.String())
	}
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: uid list: %w", ErrWire, err)
	}
	return nil
}

// castArgs are channelRemote.broadcast's arguments: route, message (JSON text), binded,
// filterParam.
type castArgs struct {
	route  string
	msg    []byte
	binded bool
	param  any
}

// AppendRPC implements rpc.Appender.
func (c *castArgs) AppendRPC(dst []byte) ([]byte, error) {
	dst = pack.AppendArrayHeader(dst, castFields)
	dst = pack.AppendBytes(pack.AppendString(dst, c.route), c.msg)
	return appendSetting(pack.AppendBool(dst, c.binded), c.param), nil
}

// castIn is castArgs decoded; route and msg alias the arguments.
type castIn struct {
	route, msg []byte
	binded     bool
	param      any
}

func (c *castIn) decode(b []byte) error {
	d := pack.NewDecoder(b)
	if n := d.ArrayLen(); n != castFields && d.Err() == nil {
		return fmt.Errorf("%w: broadcast has %d fields", ErrWire, n)
	}
	c.route, c.msg = d.StringBytesUnsafe(), d.BytesUnsafe()
	c.binded = d.Bool()
	c.param = d.Any()
	if err := d.Done(); err != nil {
		return fmt.Errorf("%w: broadcast: %w", ErrWire, err)
	}
	return nil
}

// Codes of sys remote errors. The frontend answers a sessionRemote call that fails with one of
// the session sentinels with an *rpc.Error of the sentinel's code, so that the backend's caller
// can match the sentinel with errors.Is after the hop. Codes 1..99 are package rpc's.
const codeSessionErrors = 100

var sessionErrors = [...]error{ErrSessionNotFound, ErrAlreadyBound, ErrSingleSession, ErrNotBound,
	ErrEmptyUID, ErrSessionClosed}

// toWireError turns a sessionRemote handler's error into what crosses the wire.
func toWireError(err error) error {
	for i, s := range sessionErrors {
		if errors.Is(err, s) {
			return rpc.NewError(codeSessionErrors+i, err.Error())
		}
	}
	return err
}

// RemoteError is the error of a sys remote call that failed on the other server: the code and
// message it answered with. For the session sentinels (ErrSessionNotFound, ...) errors.Is
// matches the sentinel as well as the *rpc.Error.
type RemoteError struct {
	Err      *rpc.Error
	sentinel error
}

func (e *RemoteError) Error() string { return e.Err.Error() }

// Unwrap returns the *rpc.Error and, when the code is a session sentinel's, the sentinel.
func (e *RemoteError) Unwrap() []error {
	if e.sentinel != nil {
		return []error{e.Err, e.sentinel}
	}
	return []error{e.Err}
}

// fromWireError turns the error of a sys remote call back into the sentinel it carries.
func fromWireError(err error) error {
	var re *rpc.Error
	if !errors.As(err, &re) {
		return err
	}
	if i := re.Code - codeSessionErrors; i >= 0 && i < len(sessionErrors) {
		return &RemoteError{Err: re, sentinel: sessionErrors[i]}
	}
	return &RemoteError{Err: re}
}
