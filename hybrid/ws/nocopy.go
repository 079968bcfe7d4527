package ws

// noCopy makes go vet's copylocks check report copies of the struct that
// embeds it (the same device as sync.noCopy).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
