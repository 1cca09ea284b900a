package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
)

const namespaces = 50

// load writes nodes, namespaces and pods straight into etcd in the API server's storage format
// (the protobuf envelope), which is far faster than creating them through the API.
func load(kubeconfig, endpoint string, nNodes, nPods int) error {
	if endpoint == "" {
		return fmt.Errorf("--etcd is required")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second, MaxCallSendMsgSize: 8 << 20})
	if err != nil {
		return err
	}
	defer cli.Close()
	ser := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	ctx := context.Background()
	start := time.Now()
	type kv struct{ k, v string }
	work := make(chan []kv, 16)
	var wg sync.WaitGroup
	var firstErr error
	var mu sync.Mutex
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range work {
				ops := make([]clientv3.Op, 0, len(batch))
				for _, x := range batch {
					ops = append(ops, clientv3.OpPut(x.k, x.v))
				}
				if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	var batch []kv
	put := func(key string, obj runtime.Object) {
		var buf bytes.Buffer
		if err := ser.Encode(obj, &buf); err != nil {
			panic(err)
		}
		batch = append(batch, kv{key, buf.String()})
		if len(batch) == 100 {
			work <- batch
			batch = nil
		}
	}
	created := metav1.NewTime(time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC))
	for i := 0; i < namespaces; i++ {
		ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: nsName(i), UID: uid("ns", i), CreationTimestamp: created, Labels: map[string]string{"kubernetes.io/metadata.name": nsName(i)}},
			Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
		put("/registry/namespaces/"+ns.Name, ns)
	}
	for i := 0; i < nNodes; i++ {
		n := node(i, created)
		put("/registry/minions/"+n.Name, n)
	}
	for j := 0; j < nPods; j++ {
		p := pod(j, j%nNodes, created)
		put("/registry/pods/"+p.Namespace+"/"+p.Name, p)
	}
	if len(batch) > 0 {
		work <- batch
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %d nodes and %d pods into etcd in %.1fs\n", nNodes, nPods, time.Since(start).Seconds())
	return nil
}

func nsName(i int) string { return fmt.Sprintf("team-%02d", i) }

func uid(kind string, i int) types.UID {
	return types.UID(fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i, len(kind), i%4096, i%4096, i))
}

func nodeName(i int) string { return fmt.Sprintf("aks-pool%d-38195521-vmss%06d", i%4, i) }

func nodeCIDR(i int) string { return fmt.Sprintf("10.%d.%d.0/24", 16+i/256, i%256) }

func nodeIP(i int) string { return fmt.Sprintf("10.224.%d.%d", i/250, i%250+4) }

func node(i int, created metav1.Time) *corev1.Node {
	images := make([]corev1.ContainerImage, 0, 20)
	for k := 0; k < 20; k++ {
		images = append(images, corev1.ContainerImage{Names: []string{fmt.Sprintf("mcr.microsoft.com/oss/kubernetes/image-%02d@sha256:%064x", k, k), fmt.Sprintf("mcr.microsoft.com/oss/kubernetes/image-%02d:v1.%d.0", k, k)}, SizeBytes: int64(10_000_000 + k)})
	}
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3860m"), corev1.ResourceMemory: resource.MustParse("12698Mi"), corev1.ResourcePods: resource.MustParse("110")}
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: nodeName(i), UID: uid("node", i), CreationTimestamp: created,
			Labels: map[string]string{"kubernetes.io/hostname": nodeName(i), "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"topology.kubernetes.io/zone": fmt.Sprintf("westeurope-%d", i%3+1), "node.kubernetes.io/instance-type": "Standard_D4s_v5",
				"kubernetes.azure.com/agentpool": fmt.Sprintf("pool%d", i%4), "kubernetes.azure.com/role": "agent", "kubernetes.azure.com/os-sku": "Ubuntu"},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		Spec: corev1.NodeSpec{PodCIDR: nodeCIDR(i), PodCIDRs: []string{nodeCIDR(i)},
			ProviderID: fmt.Sprintf("azure:///subscriptions/9b1c4e7a/resourceGroups/mc_rg/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool%d-38195521-vmss/virtualMachines/%d", i%4, i)},
		Status: corev1.NodeStatus{
			Capacity: res, Allocatable: res,
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated", Message: "RouteController created a route", LastTransitionTime: created, LastHeartbeatTime: created},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastTransitionTime: created, LastHeartbeatTime: created},
			},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP(i)}, {Type: corev1.NodeHostName, Address: nodeName(i)}},
			NodeInfo: corev1.NodeSystemInfo{KernelVersion: "5.15.0-1075-azure", OSImage: "Ubuntu 22.04.5 LTS", ContainerRuntimeVersion: "containerd://1.7.27-1",
				KubeletVersion: "v1.35.4", OperatingSystem: "linux", Architecture: "amd64", MachineID: fmt.Sprintf("%032x", i), SystemUUID: string(uid("sys", i)), BootID: string(uid("boot", i))},
			Images: images,
		},
	}
}

func pod(j, ni int, created metav1.Time) *corev1.Pod {
	app := fmt.Sprintf("svc-%03d", j%300)
	ns := nsName(j % namespaces)
	name := fmt.Sprintf("%s-7d9f8b6c5-%06d", app, j)
	ipBase := nodeCIDR(ni)
	ip := fmt.Sprintf("%s.%d", ipBase[:len(ipBase)-len(".0/24")], 2+(j/5000)%250)
	env := make([]corev1.EnvVar, 0, 10)
	for k := 0; k < 10; k++ {
		env = append(env, corev1.EnvVar{Name: fmt.Sprintf("APP_SETTING_%d", k), Value: fmt.Sprintf("value-%d-for-%s", k, app)})
	}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: port(8080), Scheme: corev1.URISchemeHTTP}},
		InitialDelaySeconds: 5, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
	mounts := []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}, {Name: "config", MountPath: "/etc/app"}}
	res := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}
	cs := func(name, image string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Ready: true, Started: ptr.To(true), Image: image, ImageID: image + "@sha256:" + fmt.Sprintf("%064x", j),
			ContainerID: fmt.Sprintf("containerd://%064x", j*7+len(name)), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}}}
	}
	image := "myregistry.azurecr.io/" + app + ":1.4.2"
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: uid("pod", j), CreationTimestamp: created, GenerateName: app + "-7d9f8b6c5-",
			Labels:          map[string]string{"app": app, "pod-template-hash": "7d9f8b6c5", "team": ns, "version": "1.4.2"},
			Annotations:     map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9102", "kubectl.kubernetes.io/restartedAt": "2026-10-30T08:00:00Z"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: app + "-7d9f8b6c5", UID: uid("rs", j%300), Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: corev1.PodSpec{
			NodeName: nodeName(ni), ServiceAccountName: "default", DNSPolicy: corev1.DNSClusterFirst, RestartPolicy: corev1.RestartPolicyAlways,
			SchedulerName: "default-scheduler", TerminationGracePeriodSeconds: ptr.To(int64(30)), EnableServiceLinks: ptr.To(true), PreemptionPolicy: ptr.To(corev1.PreemptLowerPriority), Priority: ptr.To(int32(0)),
			Containers: []corev1.Container{
				{Name: "app", Image: image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: 9102, Protocol: corev1.ProtocolTCP}},
					Env: env, Resources: res, VolumeMounts: mounts, LivenessProbe: probe, ReadinessProbe: probe, TerminationMessagePath: "/dev/termination-log",
					TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent},
				{Name: "log-shipper", Image: "fluent/fluent-bit:3.1", Resources: res, VolumeMounts: mounts[:1], TerminationMessagePath: "/dev/termination-log",
					TerminationMessagePolicy: corev1.TerminationMessageReadFile, ImagePullPolicy: corev1.PullIfNotPresent},
			},
			Volumes: []corev1.Volume{
				{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr.To(int32(420)), Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr.To(int64(3607)), Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				}}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}},
			},
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(300))},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(int64(300))},
			},
		},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, QOSClass: corev1.PodQOSBurstable, StartTime: &created,
			HostIP: nodeIP(ni), HostIPs: []corev1.HostIP{{IP: nodeIP(ni)}}, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{
				{Type: "PodReadyToStartContainers", Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: created},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: created},
			},
			ContainerStatuses: []corev1.ContainerStatus{cs("app", image), cs("log-shipper", "fluent/fluent-bit:3.1")},
		},
	}
}
