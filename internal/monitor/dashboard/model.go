package dashboard

// These are the parts of Grafana's dashboard JSON model (schemaVersion 39) that pyship's
// dashboard uses; Grafana fills in the rest with its defaults on import.

// Dashboard is a Grafana dashboard.
type Dashboard struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Description   string      `json:"description,omitempty"`
	Tags          []string    `json:"tags"`
	Timezone      string      `json:"timezone"`
	Editable      bool        `json:"editable"`
	GraphTooltip  int         `json:"graphTooltip"`
	SchemaVersion int         `json:"schemaVersion"`
	Version       int         `json:"version"`
	Refresh       string      `json:"refresh"`
	Time          TimeRange   `json:"time"`
	Templating    Templating  `json:"templating"`
	Annotations   Annotations `json:"annotations"`
	Panels        []Panel     `json:"panels"`
}

// TimeRange is the dashboard's default time range.
type TimeRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Templating holds the dashboard's variables.
type Templating struct {
	List []Variable `json:"list"`
}

// Variable is a template variable; pyship's only one picks the Prometheus data source.
type Variable struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Query   string   `json:"query"`
	Regex   string   `json:"regex"`
	Hide    int      `json:"hide"`
	Refresh int      `json:"refresh"`
	Current struct{} `json:"current"`
	Options []any    `json:"options"`
}

// Annotations holds the dashboard's annotation queries.
type Annotations struct {
	List []Annotation `json:"list"`
}

// Annotation is an annotation query: Grafana's own (BuiltIn) or a Prometheus one whose series
// value is the annotation's time in milliseconds (UseValueForTime).
type Annotation struct {
	Name            string     `json:"name"`
	Datasource      Datasource `json:"datasource"`
	Enable          bool       `json:"enable"`
	Hide            bool       `json:"hide"`
	IconColor       string     `json:"iconColor"`
	BuiltIn         int        `json:"builtIn,omitempty"`
	Type            string     `json:"type,omitempty"`
	Expr            string     `json:"expr,omitempty"`
	Step            string     `json:"step,omitempty"`
	TitleFormat     string     `json:"titleFormat,omitempty"`
	TextFormat      string     `json:"textFormat,omitempty"`
	TagKeys         string     `json:"tagKeys,omitempty"`
	UseValueForTime bool       `json:"useValueForTime,omitempty"`
}

// Datasource names a data source by type and uid (here the ${datasource} variable).
type Datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Panel is one panel of the dashboard.
type Panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description,omitempty"`
	GridPos     GridPos     `json:"gridPos"`
	Datasource  Datasource  `json:"datasource"`
	Targets     []Target    `json:"targets"`
	FieldConfig FieldConfig `json:"fieldConfig"`
	Options     any         `json:"options,omitempty"`
}

// GridPos places a panel on Grafana's 24-column grid.
type GridPos struct {
	H int `json:"h"`
	W int `json:"w"`
	X int `json:"x"`
	Y int `json:"y"`
}

// Target is one Prometheus query of a panel.
type Target struct {
	RefID        string     `json:"refId"`
	Datasource   Datasource `json:"datasource"`
	Expr         string     `json:"expr"`
	LegendFormat string     `json:"legendFormat"`
	Range        bool       `json:"range"`
	Instant      bool       `json:"instant"`
	// Format is "table" for a table panel's query (labels become columns); "" a time series.
	Format string `json:"format,omitempty"`
}

// FieldConfig sets how a panel shows its values.
type FieldConfig struct {
	Defaults  FieldDefaults `json:"defaults"`
	Overrides []any         `json:"overrides"`
}

// FieldDefaults are a panel's unit, bounds and thresholds.
type FieldDefaults struct {
	Unit       string      `json:"unit,omitempty"`
	Min        *float64    `json:"min,omitempty"`
	Max        *float64    `json:"max,omitempty"`
	Decimals   *int        `json:"decimals,omitempty"`
	Thresholds *Thresholds `json:"thresholds,omitempty"`
}

// Thresholds colour a panel's values by steps.
type Thresholds struct {
	Mode  string `json:"mode"`
	Steps []Step `json:"steps"`
}

// Step is a colour from a value on (Value nil: from minus infinity).
type Step struct {
	Color string   `json:"color"`
	Value *float64 `json:"value"`
}
