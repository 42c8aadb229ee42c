#!/usr/bin/env bash
# End-to-end on a throw-away kind cluster: build the images, install sedna with
# `kubectl apply -k deploy/`, apply the tutorial's Dataset and LifelongLearningJob (its
# manifests, with the robot image replaced by ours), append samples, wait for round 1.
#
# Needs: docker (a running daemon), kind, kubectl, and python with this package installed
# (for rendering the scenes). NOT RUN in this project's CI: the machine it runs on has no
# Docker daemon. Run it from the repository root:   deploy/e2e-kind.sh
# Environment: CLUSTER (default sedna-mini: its node is sedna-mini-control-plane, the
# tutorial's node name), WORK (default ./e2e-kind-work), TIMEOUT seconds (default 1800),
# KEEP=1 to keep the cluster.
set -euo pipefail

CLUSTER=${CLUSTER:-sedna-mini}
WORK=$(realpath -m "${WORK:-./e2e-kind-work}")
TIMEOUT=${TIMEOUT:-1800}
NODE="${CLUSTER}-control-plane"
ROBO_IMAGE=sedna/robo-demo:v1

for tool in docker kind kubectl python; do
  command -v "$tool" >/dev/null || { echo "e2e-kind: needs $tool" >&2; exit 2; }
done
cd "$(dirname "$0")/.."

echo "== images"
docker build -t sedna/sedna:0.1.0 .
docker build -f deploy/robo/Dockerfile -t "$ROBO_IMAGE" .

echo "== data: the tutorial's /data on the node is $WORK/data here"
mkdir -p "$WORK/data/lifelonglearningjob/output" "$WORK/data/unseen_samples" "$WORK/data/infer_results"
python -m sedna.examples.robo.datagen "$WORK/data/segmentation_data"
# round 1 starts when more than 100 new training samples arrive: hold the index back, append later
mv "$WORK/data/segmentation_data/data.txt" "$WORK/all.txt"
: > "$WORK/data/segmentation_data/data.txt"
ln -sfn segmentation_data "$WORK/data/test_data"
chmod -R a+rwX "$WORK/data"

echo "== cluster $CLUSTER"
if ! kind get clusters | grep -qx "$CLUSTER"; then
  cat > "$WORK/kind.yaml" <<KIND
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraMounts:
      - hostPath: $WORK/data
        containerPath: /data
KIND
  kind create cluster --name "$CLUSTER" --config "$WORK/kind.yaml"
fi
cleanup() { [ "${KEEP:-0}" = 1 ] || kind delete cluster --name "$CLUSTER"; }
trap cleanup EXIT
kind load docker-image --name "$CLUSTER" sedna/sedna:0.1.0 "$ROBO_IMAGE"

echo "== install"
kubectl apply -k deploy/
kubectl wait --for=condition=Established crd/datasets.sedna.io crd/lifelonglearningjobs.sedna.io --timeout=60s
kubectl -n sedna-system rollout status deployment/sedna-operator --timeout=300s
kubectl -n sedna-system rollout status daemonset/sedna-agent --timeout=300s

echo "== the tutorial's manifests (our robot image; requests cut to fit a laptop's kind node)"
kubectl apply -f tests/data/manifests/tutorial-dataset.yaml
sed -e "s#docker.io/luosiqi/sedna-robo:v0.1.2#$ROBO_IMAGE#" \
    -e "s#nodeName: sedna-mini-control-plane#nodeName: $NODE#" \
    -e "s#cpu: [46]\$#cpu: 1#" -e "s#memory: 12Gi#memory: 4Gi#" tests/data/manifests/tutorial-job.yaml \
  | kubectl apply -f -
cat "$WORK/all.txt" >> "$WORK/data/segmentation_data/data.txt"

echo "== waiting for round 1 (kubectl get ll)"
deadline=$((SECONDS + TIMEOUT))
while :; do
  kubectl get ll robo-demo
  rounds=$(kubectl get ll robo-demo -o jsonpath='{.status.rounds[*].round}')
  phase=$(kubectl get ll robo-demo -o jsonpath='{.status.rounds[0].phase}')
  if [ -n "$rounds" ] && [ "$phase" = Succeeded ]; then
    echo "e2e-kind: round 1 completed"; kubectl get pods -l sedna.io/job=robo-demo; exit 0
  fi
  if [ "$phase" = Failed ] || [ $SECONDS -ge $deadline ]; then
    echo "e2e-kind: round 1 did not complete (phase '${phase:-none}')" >&2
    kubectl describe ll robo-demo >&2 || true
    kubectl -n sedna-system logs deployment/sedna-operator --tail=100 >&2 || true
    exit 1
  fi
  sleep 15
done
