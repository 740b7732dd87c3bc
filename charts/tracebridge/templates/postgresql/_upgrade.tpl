{{/* A storage quantity in bytes: "1Gi", "1024Mi", "5G", "500000"; anything else as given. */}}
{{- define "tracebridge.bytes" -}}
{{- $q := toString . -}}
{{- $m := regexFindAll "^([0-9]+)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$" $q 1 -}}
{{- if $m -}}
{{- $digits := regexFind "^[0-9]+" $q -}}
{{- $unit := trimPrefix $digits $q -}}
{{- $factor := get (dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "Pi" 1125899906842624 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "P" 1000000000000000) $unit -}}
{{- mul (int64 $digits) $factor -}}
{{- else -}}
{{- $q -}}
{{- end -}}
{{- end -}}

{{/* The major version in an image reference's tag: "postgres:18.1" -> "18"; "" when there is none. */}}
{{- define "tracebridge.imageMajor" -}}
{{- $ref := first (splitList "@" (toString .)) -}}
{{- $parts := splitList ":" $ref -}}
{{- if and (gt (len $parts) 1) (not (contains "/" (last $parts))) -}}
{{- regexFind "^[0-9]+" (last $parts) -}}
{{- end -}}
{{- end -}}

{{/*
Fails when the values would change what the live StatefulSet cannot take: the data volume's size
(volumeClaimTemplates are immutable) or PostgreSQL's major version (a new major does not read
the old one's data directory). Call with (list $ $liveStatefulSet).
*/}}
{{- define "tracebridge.postgresqlUpgradeCheck" -}}
{{- $ := index . 0 -}}
{{- $live := index . 1 -}}
{{- $pg := $.Values.postgresql -}}
{{- $name := $live.metadata.name -}}
{{- $ns := $.Release.Namespace -}}
{{- range (dig "spec" "volumeClaimTemplates" (list) $live) -}}
{{- if eq (dig "metadata" "name" "" .) "data" -}}
{{- $size := dig "spec" "resources" "requests" "storage" "" . -}}
{{- if ne (include "tracebridge.bytes" $size) (include "tracebridge.bytes" $pg.persistence.size) -}}
{{- fail (printf "postgresql.persistence.size: the StatefulSet %s has a %s data volume and a StatefulSet's volumeClaimTemplates cannot change. To grow it to %s (its StorageClass must allow volume expansion): kubectl -n %s patch pvc data-%s-0 -p '{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"%s\"}}}}'; then kubectl -n %s delete statefulset %s --cascade=orphan (the pod and its data stay); then run this upgrade again. To keep the volume, set postgresql.persistence.size=%s" $name $size $pg.persistence.size $ns $name $pg.persistence.size $ns $name $size) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range (dig "spec" "template" "spec" "containers" (list) $live) -}}
{{- if eq .name "postgresql" -}}
{{- $from := include "tracebridge.imageMajor" .image -}}
{{- $to := regexFind "^[0-9]+" (toString $pg.image.tag) -}}
{{- if and $from $to (ne $from $to) (not $pg.allowMajorVersionChange) -}}
{{- fail (printf "postgresql.image.tag %s: the StatefulSet %s runs PostgreSQL %s (%s), and PostgreSQL %s does not read its data directory; it would start an empty database next to it. Dump first: kubectl -n %s exec %s-0 -- pg_dump -U %s -d %s --format=custom > %s.dump; then upgrade with --set postgresql.allowMajorVersionChange=true --set api.replicas=0 (the API waits); restore: kubectl -n %s exec -i %s-0 -- pg_restore -U %s -d %s --clean --if-exists < %s.dump; then upgrade again without those two flags (the chart README, \"Upgrading\"). To stay on %s, keep postgresql.image.tag at a %s.x version" (toString $pg.image.tag) $name $from .image $to $ns $name $pg.username $pg.database $pg.database $ns $name $pg.username $pg.database $pg.database $from $from) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
