// Renders chat conversations with a Modelfile's TEMPLATE the way Ollama does, so tests can compare
// the result with the model's own chat template.
//
// Usage: go run render.go <Modelfile> < cases.json > renderings.json
//
//	go run render.go -tag <Modelfile>   prints the tool-call tag Ollama would look for in model output
//
// cases.json: [{"messages": [...], "tools": [...]}] in the OpenAI chat format (tool-call arguments
// as objects). The output is a JSON array with one rendered prompt per case.
//
// What is mimicked from Ollama (template/template.go, server/routes.go, parser/parser.go):
// the Modelfile's triple-quoted values; SYSTEM prepended when a chat has no system message;
// consecutive messages of one role merged except tool messages; the data the template sees
// (System, Messages with ToolCalls whose Arguments are a Go map, Tools with a typed Function);
// the template options (missingkey=zero) and functions (json, currentDate, yesterdayDate).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
)

type inputCall struct {
	Function struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments"`
	} `json:"function"`
}

type inputMessage struct {
	Role       string      `json:"role"`
	Content    string      `json:"content"`
	ToolCalls  []inputCall `json:"tool_calls"`
	ToolCallID string      `json:"tool_call_id"`
	Name       string      `json:"name"`
}

type inputTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

type inputCase struct {
	Messages []inputMessage `json:"messages"`
	Tools    []inputTool    `json:"tools"`
}

// The template-side types of Ollama's template package.
type templateArgs map[string]any

func (t templateArgs) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

type toolProperty struct {
	AnyOf       []toolProperty          `json:"anyOf,omitempty"`
	Type        any                     `json:"type,omitempty"`
	Items       any                     `json:"items,omitempty"`
	Description string                  `json:"description,omitempty"`
	Enum        []any                   `json:"enum,omitempty"`
	Properties  map[string]toolProperty `json:"properties,omitempty"`
}

type templateProperties map[string]toolProperty

func (t templateProperties) String() string {
	if t == nil {
		return "{}"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

type templateToolFunctionParameters struct {
	Type       string             `json:"type"`
	Defs       any                `json:"$defs,omitempty"`
	Items      any                `json:"items,omitempty"`
	Required   []string           `json:"required,omitempty"`
	Properties templateProperties `json:"properties"`
}

type templateToolFunction struct {
	Name        string                         `json:"name"`
	Description string                         `json:"description"`
	Parameters  templateToolFunctionParameters `json:"parameters"`
}

type templateTool struct {
	Type     string               `json:"type"`
	Items    any                  `json:"items,omitempty"`
	Function templateToolFunction `json:"function"`
}

type templateTools []templateTool

func (t templateTools) String() string {
	b, _ := json.Marshal(t)
	return string(b)
}

type templateToolCallFunction struct {
	Index     int
	Name      string
	Arguments templateArgs
}

type templateToolCall struct {
	ID       string
	Function templateToolCallFunction
}

type templateMessage struct {
	Role       string
	Content    string
	Thinking   string
	ToolCalls  []templateToolCall
	ToolName   string
	ToolCallID string
}

var funcs = template.FuncMap{
	"json": func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	},
	"currentDate":   func(args ...string) string { return time.Now().Format("2006-01-02") },
	"yesterdayDate": func(args ...string) string { return time.Now().AddDate(0, 0, -1).Format("2006-01-02") },
}

// modelfileValues reads the TEMPLATE and SYSTEM values as Ollama's parser does: a value runs to the
// end of its line unless it is triple-quoted, and then to the line that ends the closing quotes.
func modelfileValues(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	values := map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(string(data)))
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	var name string
	var buf strings.Builder
	for scanner.Scan() {
		line := scanner.Text()
		if name != "" {
			buf.WriteString("\n" + line)
			if strings.HasSuffix(strings.TrimSpace(line), `"""`) {
				v := strings.TrimSpace(buf.String())
				values[name] = v[3 : len(v)-3]
				name = ""
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "" {
			continue
		}
		command, rest, _ := strings.Cut(line, " ")
		command = strings.ToUpper(command)
		rest = strings.TrimSpace(rest)
		if command == "PARAMETER" {
			continue
		}
		if strings.HasPrefix(rest, `"""`) {
			if len(rest) >= 6 && strings.HasSuffix(rest, `"""`) {
				values[command] = rest[3 : len(rest)-3]
				continue
			}
			name = command
			buf.Reset()
			buf.WriteString(rest)
			continue
		}
		values[command] = strings.Trim(rest, `"`)
	}
	if name != "" {
		return nil, fmt.Errorf("%s: unterminated \"\"\" value for %s", path, name)
	}
	return values, scanner.Err()
}

func toTemplateData(c inputCase, defaultSystem string) (map[string]any, error) {
	msgs := c.Messages
	if defaultSystem != "" && (len(msgs) == 0 || msgs[0].Role != "system") {
		msgs = append([]inputMessage{{Role: "system", Content: defaultSystem}}, msgs...)
	}
	var system []string
	var collated []*templateMessage
	for _, m := range msgs {
		if m.Role == "system" {
			system = append(system, m.Content)
		}
		if len(collated) > 0 && collated[len(collated)-1].Role == m.Role && m.Role != "tool" {
			collated[len(collated)-1].Content += "\n\n" + m.Content
			continue
		}
		tm := &templateMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID, ToolName: m.Name}
		for i, call := range m.ToolCalls {
			tm.ToolCalls = append(tm.ToolCalls, templateToolCall{Function: templateToolCallFunction{Index: i, Name: call.Function.Name, Arguments: templateArgs(call.Function.Arguments)}})
		}
		collated = append(collated, tm)
	}
	var tools templateTools
	for _, t := range c.Tools {
		var params templateToolFunctionParameters
		if len(t.Function.Parameters) > 0 {
			if err := json.Unmarshal(t.Function.Parameters, &params); err != nil {
				return nil, fmt.Errorf("tool %s: %w", t.Function.Name, err)
			}
		}
		tools = append(tools, templateTool{Type: t.Type, Function: templateToolFunction{Name: t.Function.Name, Description: t.Function.Description, Parameters: params}})
	}
	return map[string]any{
		"System":   strings.Join(system, "\n\n"),
		"Messages": collated,
		"Tools":    tools,
		"Response": "",
		"Think":    false,
	}, nil
}

// toolCallTag is Ollama's parseTag (tools/template.go): the first text inside the first
// `if .ToolCalls`, up to "{", or "{" when there is none.
func toolCallTag(tmpl *template.Template) string {
	tc := findToolCallNode(tmpl.Tree.Root.Nodes)
	if tc == nil {
		return "{"
	}
	tn := findTextNode(tc.List.Nodes)
	if tn == nil {
		return "{"
	}
	tag, _, _ := strings.Cut(strings.ReplaceAll(string(tn.Text), "\r\n", "\n"), "{")
	if tag = strings.TrimSpace(tag); tag == "" {
		return "{"
	}
	return tag
}

func findToolCallNode(nodes []parse.Node) *parse.IfNode {
	isToolCalls := func(n *parse.IfNode) bool {
		for _, cmd := range n.Pipe.Cmds {
			for _, arg := range cmd.Args {
				if field, ok := arg.(*parse.FieldNode); ok {
					for _, ident := range field.Ident {
						if ident == "ToolCalls" {
							return true
						}
					}
				}
			}
		}
		return false
	}
	branch := func(list, elseList *parse.ListNode) *parse.IfNode {
		if r := findToolCallNode(list.Nodes); r != nil {
			return r
		}
		if elseList != nil {
			return findToolCallNode(elseList.Nodes)
		}
		return nil
	}
	for _, node := range nodes {
		var found *parse.IfNode
		switch n := node.(type) {
		case *parse.IfNode:
			if isToolCalls(n) {
				return n
			}
			found = branch(n.List, n.ElseList)
		case *parse.ListNode:
			found = findToolCallNode(n.Nodes)
		case *parse.RangeNode:
			found = branch(n.List, n.ElseList)
		case *parse.WithNode:
			found = branch(n.List, n.ElseList)
		}
		if found != nil {
			return found
		}
	}
	return nil
}

func findTextNode(nodes []parse.Node) *parse.TextNode {
	branch := func(list, elseList *parse.ListNode) *parse.TextNode {
		if t := findTextNode(list.Nodes); t != nil {
			return t
		}
		if elseList != nil {
			return findTextNode(elseList.Nodes)
		}
		return nil
	}
	for _, node := range nodes {
		switch n := node.(type) {
		case *parse.TextNode:
			if len(bytes.TrimSpace(n.Text)) > 0 {
				return n
			}
		case *parse.IfNode:
			return branch(n.List, n.ElseList)
		case *parse.ListNode:
			if t := findTextNode(n.Nodes); t != nil {
				return t
			}
		case *parse.RangeNode:
			return branch(n.List, n.ElseList)
		case *parse.WithNode:
			return branch(n.List, n.ElseList)
		case *parse.ActionNode:
			return nil
		}
	}
	return nil
}

func main() {
	tagMode := len(os.Args) == 3 && os.Args[1] == "-tag"
	if len(os.Args) != 2 && !tagMode {
		fmt.Fprintln(os.Stderr, "usage: go run render.go [-tag] <Modelfile> < cases.json")
		os.Exit(2)
	}
	values, err := modelfileValues(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpl, err := template.New("").Option("missingkey=zero").Funcs(funcs).Parse(values["TEMPLATE"])
	if err != nil {
		fmt.Fprintln(os.Stderr, "TEMPLATE does not parse:", err)
		os.Exit(1)
	}
	if tagMode {
		fmt.Println(toolCallTag(tmpl))
		return
	}
	var cases []inputCase
	decoder := json.NewDecoder(os.Stdin)
	if err := decoder.Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "cases:", err)
		os.Exit(1)
	}
	var out []string
	for i, c := range cases {
		data, err := toTemplateData(c, values["SYSTEM"])
		if err != nil {
			fmt.Fprintf(os.Stderr, "case %d: %v\n", i, err)
			os.Exit(1)
		}
		var b strings.Builder
		if err := tmpl.Execute(&b, data); err != nil {
			fmt.Fprintf(os.Stderr, "case %d: TEMPLATE failed: %v\n", i, err)
			os.Exit(1)
		}
		out = append(out, b.String())
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
