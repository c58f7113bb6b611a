# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: one VM, the conformance suite over Weft's verbs transport on Soft-RoCE (rxe0),
# run by Weft's own runner (`weft-conformance --transport verbs`, listening on the VM's RDMA
# address): ordering, sizes up to the maximum (fragments of RDMA rendezvous), many
# connections, concurrent senders, back-pressure, orderly close and malformed frames. The
# same runner against verbs that drops frames must fail (proof that the suite can), and no
# receiver-not-ready event may appear on the port.
LAB_NODES=1
LAB_TIMEOUT=600

_conformance_fails_when_frames_drop() {
    local rc=0
    timeout 200 "$CONFORMANCE" --transport verbs --check orderingAndNoLoss --fault drop-frames || rc=$?
    [ "$rc" = 1 ]
}

_no_rnr() {
    local after
    after=$(lab_rnr_events)
    echo "RNR events before $1, after $after"
    [ "$after" = "$1" ]
}

lab_run() {
    CONFORMANCE=$(lab_binary weft-conformance) || return 1
    local rnr_before
    rnr_before=$(lab_rnr_events)
    lab_check "the conformance suite passes over verbs (weft-conformance)" timeout 400 "$CONFORMANCE" --transport verbs
    lab_check "no receiver-not-ready events on $WEFT_LAB_RDMA_DEV during the suite" _no_rnr "$rnr_before"
    lab_check "the conformance suite fails against verbs that drops frames" _conformance_fails_when_frames_drop
    lab_checks_done
}
