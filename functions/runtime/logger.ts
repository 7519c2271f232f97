/**
 * Structured logs of the Lambda handlers, on Powertools for AWS Lambda's Logger, in the project's
 * one logging contract (core/logging/log-contract.ts): the same `timestamp`, `level`, `message`,
 * `service` and event fields as the containers, plus Powertools' Lambda context (`cold_start`,
 * `function_name`, `function_request_id`, `function_arn`, `function_memory_size`, `xray_trace_id`).
 * Powertools honours Lambda's own log-level control (`AWS_LAMBDA_LOG_LEVEL`, which wins over
 * CDC_CACHE_LOG_LEVEL, as AWS documents for advanced logging controls). Lines go to stdout/stderr
 * as Powertools writes them; an injected sink (tests, `lambda serve --log-type Tail`) gets each line.
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { LogLevel } from '../../core/config/log-level.ts';
import { redactText, toLogFields } from '../../core/logging/log-contract.ts';
import type { LambdaContext } from './lambda-types.ts';

/** Where log lines go (one JSON text per call, without the newline). */
export type LogSink = (line: string) => void;

/** The default sink: stdout. */
export const stdoutSink: LogSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** A structured logger bound to some fields (function name, request id). */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger;
  /** A logger for one invocation: Lambda context fields (cold start, request id, ARN) on every line. */
  forInvocation(context: LambdaContext): Logger;
}

/** The contract's field names over Powertools' attributes (Powertools' own default differs: `INFO`, `location`). */
class ContractFormatter extends LogFormatter {
  override formatAttributes(a: UnformattedAttributes, additional: LogAttributes): LogItem {
    const c = a.lambdaContext;
    return new LogItem({
      attributes: {
        timestamp: a.timestamp.toISOString(),
        level: String(a.logLevel).toLowerCase(),
        message: redactText(a.message),
        service: a.serviceName,
        cold_start: c?.coldStart,
        function_name: c?.functionName,
        function_request_id: c?.awsRequestId,
        function_arn: c?.invokedFunctionArn,
        function_memory_size: c?.memoryLimitInMB,
        xray_trace_id: a.xRayTraceId,
      },
    }).addAttributes(toLogFields(additional));
  }
}

/** Powertools' Logger writing to a sink (its printing is the one protected seam it offers). */
class SinkLogger extends PowertoolsLogger {
  #sink: LogSink | undefined;
  constructor(options: ConstructorParameters<typeof PowertoolsLogger>[0], sink: LogSink | undefined) {
    super(options);
    this.#sink = sink;
  }
  protected override printLog(logLevel: number, log: LogItem): void {
    if (this.#sink === undefined) {
      super.printLog(logLevel, log);
      return;
    }
    log.prepareForPrint();
    this.#sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }
  protected override createLogger(options?: ConstructorParameters<typeof PowertoolsLogger>[0]): SinkLogger {
    return new SinkLogger(options, this.#sink);
  }
}

function wrap(p: PowertoolsLogger): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields === undefined) p[level](message);
      else p[level](message, fields);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    with(fields) {
      const child = p.createChild();
      child.appendPersistentKeys(fields);
      return wrap(child);
    },
    forInvocation(context) {
      const child = p.createChild();
      child.addContext({
        functionName: context.functionName,
        awsRequestId: context.awsRequestId,
        invokedFunctionArn: context.invokedFunctionArn ?? '',
        memoryLimitInMB: context.memoryLimitInMB ?? '',
        functionVersion: context.functionVersion ?? '$LATEST',
        callbackWaitsForEmptyEventLoop: true,
        logGroupName: '',
        logStreamName: '',
        getRemainingTimeInMillis: () => context.getRemainingTimeInMillis(),
        done: () => {},
        fail: () => {},
        succeed: () => {},
      });
      return wrap(child);
    },
  };
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level (CDC_CACHE_LOG_LEVEL); AWS_LAMBDA_LOG_LEVEL wins when set. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default Powertools' own output (stdout; warn and error on stderr) */
  sink?: LogSink;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
  /** The `service` field. @default POWERTOOLS_SERVICE_NAME, else 'cdc-cache-lambda' */
  service?: string;
}

/** Creates a logger writing lines at `level` and above. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const p = new SinkLogger(
    {
      logLevel: (options.level ?? 'info').toUpperCase() as 'INFO',
      serviceName: options.service ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'cdc-cache-lambda',
      logFormatter: new ContractFormatter(),
      ...(options.fields === undefined ? {} : { persistentKeys: options.fields }),
    },
    options.sink,
  );
  return wrap(p);
}
