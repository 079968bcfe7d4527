//go:build race

package codec

// raceEnabled reports whether the race detector is on; allocation counts differ under it.
const raceEnabled = true
