export { createFlowRecorder, type FlowEntry, type FlowRecorder, type FlowRecorderOptions } from './flowRecorder.js';
export { toMermaid } from './mermaid.js';
export { createRedactor, redact, redactString, type Redactor, type RedactorOptions } from './redact.js';
export { createInspectorSanitizers, inspectorSanitizers, type InspectorSanitizers, type InspectorSanitizersOptions } from './statelySanitizers.js';
export { redactedInspect, type InspectTarget, type RedactedInspectOptions } from './redactedInspect.js';
