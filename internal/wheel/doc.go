// Package wheel is a hashed timing wheel: one goroutine and one lock serve any number of timers,
// each of which is a few words embedded in its owner, so that 100k connections with their own
// timeout cost no runtime timer, no closure and no allocation.
//
// # Model
//
// Time is counted in ticks since the wheel was created. A timer due at tick `at` lives in slot
// `at & mask`, in a doubly linked list threaded through the Timer values themselves:
//
//	slots (power of two)         timers (embedded in their owners)
//	+-------+
//	|   0   |<-> T(at=1024) <-> T(at=2048)      ; same slot, later rounds stay until due
//	+-------+
//	|   1   |<-> T(at=1)
//	+-------+
//	|  ...  |
//	+-------+
//	| mask  |<-> ...
//	+-------+
//
// Every tick the wheel goroutine advances the current tick by one, unlinks the timers of that
// slot whose tick has come and calls the fire function for each of them, outside the lock. Timers
// of a later round stay where they are. Schedule and Cancel are O(1).
//
// # Precision
//
// A timer fires on the first tick at or after its due tick, late by up to one tick plus
// scheduling delay. If the goroutine falls behind (a long pause), it catches up, firing in order,
// on its next wake-up. Compute due ticks from Clock (real time), not Now (the last tick
// processed): Clock() + Ticks(d) + 1 never fires before d has passed, even when the goroutine is
// late, whereas Now() + Ticks(d) would fire early by however many ticks it lags.
//
// # Ownership
//
// Timer links are guarded by the wheel's mutex; only Schedule, Cancel and the wheel goroutine touch
// them. Owner is set by the owner before the first Schedule and never changed while scheduled. The
// fire function runs on the wheel goroutine, one timer at a time; it may call Schedule and Cancel.
// It must not block: every other timer waits for it.
//
// A fire call may race with a Schedule made by another goroutine after the wheel collected the
// timer as due. Owners that move deadlines concurrently should keep the deadline themselves and
// check it in the fire function (see hybrid's lazy deadlines).
package wheel
