package report

// Cleanup is what `kubectl podnet cleanup` found and did.
type Cleanup struct {
	// Namespace is the namespace looked in; empty for all namespaces.
	Namespace string `json:"namespace,omitempty"`
	DryRun    bool   `json:"dryRun"`
	// ProbePods are the node probe pods left behind and what was done with each.
	ProbePods []CleanupPod `json:"probePods"`
	// ProbeContainers are the pods that carry podnet ephemeral containers (they cannot be removed).
	ProbeContainers []ProbeContainerPod `json:"podsWithProbeContainers"`
	// Unknown says what could not be read.
	Unknown []string `json:"unknown,omitempty"`
}

// CleanupAction is what cleanup did with a probe pod.
type CleanupAction string

// Cleanup actions.
const (
	ActionDeleted     CleanupAction = "deleted"
	ActionWouldDelete CleanupAction = "would delete"
	ActionNotDeleted  CleanupAction = "not deleted"
	ActionAlreadyGone CleanupAction = "already gone"
)

// CleanupPod is one node probe pod left behind.
type CleanupPod struct {
	Namespace string        `json:"namespace"`
	Name      string        `json:"name"`
	Node      string        `json:"node,omitempty"`
	Age       string        `json:"age"`
	Action    CleanupAction `json:"action"`
	// Reason is why a pod was not deleted.
	Reason string `json:"reason,omitempty"`
}

// ProbeContainerPod is a pod carrying podnet ephemeral containers.
type ProbeContainerPod struct {
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Containers int    `json:"probeContainers"`
}
