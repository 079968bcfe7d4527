// Package hist is a log-linear latency histogram in the style of HdrHistogram: fixed memory,
// allocation-free recording, exact merging.
//
// # Buckets
//
// Values are non-negative integers (the load generator records nanoseconds). Below 2·SubBuckets
// every value has its own bucket. Above, each power of two [2^k, 2^(k+1)) is split into
// SubBuckets equal buckets, so a bucket is never wider than 1/SubBuckets of the values it holds
// (0.78% with SubBuckets = 128):
//
//	index   0 .. 255            256 .. 383          384 .. 511          ...
//	values  0 .. 255 (exact)    256 .. 511 step 2   512 .. 1023 step 4  ...
//
//	for v >= 2·SubBuckets:  shift = msb(v) - subBits,  index = shift·SubBuckets + v>>shift
//
// Values above MaxValue (about 36 minutes in nanoseconds) land in the last bucket; Max still
// reports the true largest value. A Histogram is about 35 KiB and never grows.
//
// # Percentiles and merging
//
// ValueAt(q) returns the upper edge of the bucket holding the value of rank ceil(q·n), clamped to
// [Min, Max]: the reference value v of that rank satisfies v <= ValueAt(q) < v + v/SubBuckets + 1.
// Merge adds bucket counts, so merging the histograms of several loops or processes gives exactly
// the histogram of all their values. Sparse is the compact form sent between processes.
package hist
