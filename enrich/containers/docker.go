package containers

import (
	"encoding/json"
	"io"
	"os"
	"strings"
)

// maxValue is the longest name, image or label value kept from a
// config.v2.json: longer ones are no names, they are dropped.
const maxValue = 1024

// dockerConfig is what is read of /var/lib/docker/containers/<id>/config.v2.json.
type dockerConfig struct {
	id     string
	docker Docker
	kube   Kubernetes // from the io.kubernetes.* labels (dockershim, cri-dockerd)
}

func (c *dockerConfig) found() bool {
	return c.docker.Name != "" || c.docker.Image != "" || c.kube.PodName != ""
}

// readDockerConfig reads the container name ("Name": "/web-1"), the image
// as given ("Config": {"Image": ...}) and the kubelet's labels from the
// first limit bytes of a config.v2.json, token by token, without holding
// the document: Docker writes Config, with the labels, before Name, and a
// file cut by the limit or malformed past some point still gives what was
// read before. A file whose "ID" is not id gives nothing.
func readDockerConfig(path, id string, limit int64) (dockerConfig, bool) {
	f, err := os.Open(path)
	if err != nil {
		return dockerConfig{}, false
	}
	defer f.Close()
	var c dockerConfig
	parseDockerConfig(json.NewDecoder(io.LimitReader(f, limit)), &c)
	if c.id != "" && c.id != id {
		return dockerConfig{}, false
	}
	return c, c.found()
}

func parseDockerConfig(dec *json.Decoder, c *dockerConfig) {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return
	}
	config := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return
		}
		switch key {
		case "ID":
			s, err := stringValue(dec)
			if err != nil {
				return
			}
			c.id = s
		case "Name":
			s, err := stringValue(dec)
			if err != nil {
				return
			}
			c.docker.Name = strings.TrimPrefix(s, "/")
		case "Config":
			if t, err := dec.Token(); err != nil {
				return
			} else if t != json.Delim('{') {
				if skipRest(dec, t) != nil {
					return
				}
				continue
			}
			if parseConfigObject(dec, c) != nil {
				return
			}
			config = true
		default:
			if skip(dec) != nil {
				return
			}
		}
		if config && c.docker.Name != "" && c.id != "" {
			return // all that is needed
		}
	}
}

// parseConfigObject reads the members of "Config" after its '{'.
func parseConfigObject(dec *json.Decoder, c *dockerConfig) error {
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		switch key {
		case "Image":
			s, err := stringValue(dec)
			if err != nil {
				return err
			}
			c.docker.Image = s
		case "Labels":
			t, err := dec.Token()
			if err != nil {
				return err
			}
			if t != json.Delim('{') {
				if err := skipRest(dec, t); err != nil {
					return err
				}
				continue
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				v, err := stringValue(dec)
				if err != nil {
					return err
				}
				switch k {
				case "io.kubernetes.pod.name":
					c.kube.PodName = v
				case "io.kubernetes.pod.namespace":
					c.kube.Namespace = v
				case "io.kubernetes.container.name":
					c.kube.ContainerName = v
				case "io.kubernetes.pod.uid":
					c.kube.PodID = v
				}
			}
			if _, err := dec.Token(); err != nil { // '}'
				return err
			}
		default:
			if err := skip(dec); err != nil {
				return err
			}
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// stringValue reads one value and returns it if it is a string fit to be
// a name (at most maxValue bytes, valid UTF-8, no control character); any
// other value is skipped and gives "".
func stringValue(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	if s, ok := t.(string); ok {
		if len(s) > maxValue || !clean(s) {
			return "", nil
		}
		return s, nil
	}
	return "", skipRest(dec, t)
}

// skip reads and drops one value.
func skip(dec *json.Decoder) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	return skipRest(dec, t)
}

// skipRest drops the rest of a value whose first token is t.
func skipRest(dec *json.Decoder, t json.Token) error {
	d, ok := t.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	for depth := 1; depth > 0; {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}
