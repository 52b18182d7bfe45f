-- The Herald instance that performed an operator action (io.herald.web.InstanceName: HOSTNAME, a Kubernetes pod's name),
-- since behind a load balancer any instance may answer the click; null for actions recorded before.
ALTER TABLE operator_action ADD COLUMN instance text;
