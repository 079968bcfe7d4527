package driver

// A hashed timing wheel holding at most one timer per connection, linked through the connection
// itself (no allocation). A connection's timer is its earliest deadline (heartbeat to send,
// heartbeat timeout, connect timeout, oldest request timeout); when it fires the connection
// re-evaluates its deadlines and re-arms. Deadlines that move later (a heartbeat timeout pushed
// out by incoming data) need no re-arm: the timer fires early and is re-armed then.
//
//	slot = ceil(when / wheelTick) mod wheelSlots   one doubly linked list per slot
//	advance(now) walks the slots from the last tick to now and fires the timers that are due;
//	timers further than one revolution away stay in their slot until their round comes.
const (
	wheelTick  = int64(5_000_000) // 5 ms
	wheelSlots = 2048             // 10.24 s per revolution
	wheelMask  = wheelSlots - 1
)

type wheel struct {
	slots [wheelSlots]*conn
	cur   int64 // last tick processed
	n     int   // armed timers
}

// arm sets c's timer to when, unless it is already armed for an earlier time.
func (w *wheel) arm(c *conn, when int64) {
	if c.tArmed {
		if c.tWhen <= when {
			return
		}
		w.remove(c)
	}
	t := (when + wheelTick - 1) / wheelTick // every timer in slot t is due by tick t's start
	if t <= w.cur {
		t = w.cur + 1
	}
	s := &w.slots[t&wheelMask]
	c.tWhen, c.tArmed, c.tSlot = when, true, int32(t&wheelMask)
	c.tPrev, c.tNext = nil, *s
	if *s != nil {
		(*s).tPrev = c
	}
	*s = c
	w.n++
}

func (w *wheel) remove(c *conn) {
	if !c.tArmed {
		return
	}
	if c.tPrev != nil {
		c.tPrev.tNext = c.tNext
	} else {
		w.slots[c.tSlot] = c.tNext
	}
	if c.tNext != nil {
		c.tNext.tPrev = c.tPrev
	}
	c.tPrev, c.tNext, c.tArmed = nil, nil, false
	w.n--
}

// advance fires, through fire, every timer due at now. fire may re-arm the timer it is given.
func (w *wheel) advance(now int64, fire func(*conn)) {
	t := now / wheelTick
	steps := t - w.cur
	if steps > wheelSlots {
		steps = wheelSlots
	}
	for i := int64(1); i <= steps; i++ {
		c := w.slots[(w.cur+i)&wheelMask]
		for c != nil {
			next := c.tNext
			if c.tWhen <= now {
				w.remove(c)
				fire(c)
			}
			c = next
		}
	}
	if t > w.cur {
		w.cur = t
	}
}

// nextTick returns when the next slot is due, or -1 when no timer is armed.
func (w *wheel) nextTick() int64 {
	if w.n == 0 {
		return -1
	}
	return (w.cur + 1) * wheelTick
}
