//go:build race

package main

// raceEnabled shrinks the crash test's fleet under the race detector, which slows the
// test's own generating and checking tenfold.
const raceEnabled = true
