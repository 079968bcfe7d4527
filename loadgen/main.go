package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the exit: the tests call it.
func run(args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseOptions(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, err)
		return 2
	}
	if os.Getenv(childEnv) != "" && o.childCount > 0 {
		if err := runChild(o); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	var status io.Writer
	if !o.quiet {
		status = stderr
	}
	res, err := runParent(o, fs, status)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	text := stdout
	if o.jsonOut == "-" {
		text = stderr // stdout carries the JSON
	}
	writeText(text, res)
	if o.jsonOut != "" {
		if err := writeJSON(o.jsonOut, res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if o.htmlOut != "" {
		if err := writeHTML(o.htmlOut, res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	return 0
}
