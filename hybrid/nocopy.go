package hybrid

// noCopy may be embedded in structs that must not be copied after first use; go vet's copylocks
// check reports copies.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
