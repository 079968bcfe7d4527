package driver

// ring holds a connection's requests that were sent and not yet answered or timed out. Request
// ids are consecutive per connection, so the entry of id lives at head + (id - headID): a lookup is
// O(1) whatever the order of responses. Entries answered out of order stay as holes until the
// head reaches them.
//
//	headID         headID+1      ...           headID+n-1
//	[s[head]]      [s[head+1]]   ...           [s[(head+n-1) % len]]     then free slots
type ring struct {
	s      []ringSlot
	head   int    // index of headID's entry
	n      int    // span: entries from head, answered or not
	headID uint32 // id of the oldest entry
	next   uint32 // id after the newest entry ever pushed
	live   int    // entries not yet answered or timed out
}

type ringSlot struct {
	sent int64 // intended send time, ns on the driver clock
	kind kind
	done bool
}

// room reports whether a request can be added without growing past limit entries.
func (r *ring) room(limit int) bool { return r.n < limit }

// push records request id, which must be the id after the newest entry (any id when empty). It
// grows the ring, up to limit entries, and returns false when it is full.
func (r *ring) push(id uint32, sent int64, k kind, limit int) bool {
	if r.n == len(r.s) {
		if len(r.s) >= limit {
			return false
		}
		r.grow(limit)
	}
	if r.n == 0 {
		r.headID, r.head = id, 0
	}
	r.s[(r.head+r.n)%len(r.s)] = ringSlot{sent: sent, kind: k}
	r.n++
	r.next = id + 1
	r.live++
	return true
}

func (r *ring) grow(limit int) {
	size := min(max(4, 2*len(r.s)), limit)
	s := make([]ringSlot, size)
	for i := 0; i < r.n; i++ {
		s[i] = r.s[(r.head+i)%len(r.s)]
	}
	r.s, r.head = s, 0
}

// Results of find.
const (
	found   = iota
	late    // id older than every entry: its request timed out before the response came
	unknown // id never sent
)

// find returns the slot index of request id, or says that the id is late (sent, but already
// answered or timed out) or unknown (never sent). Ids are assumed not to wrap: pomelo's JS codec
// stops at 2^31-1 anyway.
func (r *ring) find(id uint32) (int, int) {
	if id == 0 || id >= r.next {
		return 0, unknown
	}
	if r.n == 0 || id < r.headID {
		return 0, late
	}
	i := (r.head + int(id-r.headID)) % len(r.s)
	if r.s[i].done {
		return 0, late
	}
	return i, found
}

// complete marks slot i answered and drops answered entries from the head.
func (r *ring) complete(i int) {
	r.s[i].done = true
	r.live--
	r.trim()
}

func (r *ring) trim() {
	for r.n > 0 && r.s[r.head].done {
		r.head = (r.head + 1) % len(r.s)
		r.headID++
		r.n--
	}
}

// expire marks every unanswered entry sent at or before deadline as timed out and returns how
// many of each kind it marked. Entries are in send order, so it stops at the first younger one.
func (r *ring) expire(deadline int64, out *[numKinds]int) {
	for r.n > 0 {
		s := &r.s[r.head]
		if !s.done {
			if s.sent > deadline {
				return
			}
			s.done = true
			r.live--
			out[s.kind]++
		}
		r.head = (r.head + 1) % len(r.s)
		r.headID++
		r.n--
	}
}

// oldest returns the send time of the oldest unanswered entry: the head, since answered entries
// are trimmed from the head as soon as they get there.
func (r *ring) oldest() (int64, bool) {
	if r.n == 0 {
		return 0, false
	}
	return r.s[r.head].sent, true
}

// reset forgets every entry and returns how many were unanswered.
func (r *ring) reset() int {
	live := r.live
	r.head, r.n, r.live = 0, 0, 0
	return live
}
