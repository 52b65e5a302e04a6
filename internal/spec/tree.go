package spec

// vkind is the TOML type of a value.
type vkind int

const (
	vString vkind = iota + 1
	vInt
	vFloat
	vBool
	vDateTime
	vArray
	vTable
)

func (k vkind) String() string {
	switch k {
	case vString:
		return "string"
	case vInt:
		return "integer"
	case vFloat:
		return "float"
	case vBool:
		return "boolean"
	case vDateTime:
		return "date-time"
	case vArray:
		return "array"
	case vTable:
		return "table"
	}
	return "value"
}

// node is a decoded TOML value together with where it was written.
type node struct {
	kind vkind
	// str is the value of a string, and the source text of any other scalar (used in hints).
	str string
	i   int64
	f   float64
	b   bool
	arr []*node
	tbl *table
	// key is where the key naming this value was written (zero for array elements);
	// pos is where the value itself starts.
	key, pos Pos
	// overlay names the [env.NAME] overlay the value comes from, "" for the base spec.
	overlay string
	// arrayTables marks an array made of [[header]] tables.
	arrayTables bool
}

// table is a TOML table: keys in the order they were written.
type table struct {
	keys []string
	m    map[string]*node
	// How the table was created, for TOML's rules against defining a table twice.
	header, dotted, inline bool
}

func newTable() *table { return &table{m: map[string]*node{}} }

func newTableNode(key, pos Pos) *node {
	return &node{kind: vTable, tbl: newTable(), key: key, pos: pos}
}

func (t *table) get(k string) *node { return t.m[k] }

func (t *table) set(k string, n *node) {
	if _, ok := t.m[k]; !ok {
		t.keys = append(t.keys, k)
	}
	t.m[k] = n
}

func (t *table) del(k string) {
	if _, ok := t.m[k]; !ok {
		return
	}
	delete(t.m, k)
	for i, key := range t.keys {
		if key == k {
			t.keys = append(t.keys[:i:i], t.keys[i+1:]...)
			break
		}
	}
}

// clone copies a value deeply, so that merging into the copy leaves the original alone.
func (n *node) clone() *node {
	c := *n
	if n.arr != nil {
		c.arr = make([]*node, len(n.arr))
		for i, e := range n.arr {
			c.arr[i] = e.clone()
		}
	}
	if n.tbl != nil {
		t := newTable()
		t.header, t.dotted, t.inline = n.tbl.header, n.tbl.dotted, n.tbl.inline
		for _, k := range n.tbl.keys {
			t.set(k, n.tbl.m[k].clone())
		}
		c.tbl = t
	}
	return &c
}
