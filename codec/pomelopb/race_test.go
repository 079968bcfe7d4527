//go:build race

package pomelopb

// raceEnabled is true: allocation counts differ under the race detector and are not checked.
const raceEnabled = true
