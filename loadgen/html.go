package main

func writeHTML(path string, r *result) error { return nil }
