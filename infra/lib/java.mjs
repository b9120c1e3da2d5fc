// What the JVM servers of infra/ (the Kafka broker, S3Proxy) share: the java to run them with
// and the versions their poms pin. Node builtins only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The `java` of JAVA_HOME when set, else the one on PATH. */
export function javaCommand() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin/java') : 'java';
}

/** The value of `<name>` in the `<properties>` of the pom at `pomFile` (a pinned version). */
export function pomProperty(pomFile, name) {
  const m = new RegExp(`<${name.replaceAll('.', '\\.')}>([^<]+)</${name.replaceAll('.', '\\.')}>`).exec(fs.readFileSync(pomFile, 'utf8'));
  if (!m) throw new Error(`${pomFile} has no <${name}> property`);
  return m[1];
}

/** Copies the dependencies the pom at `pomFile` declares from Maven Central into `outputDir` (with `flags` for Maven). */
export function copyPomDependencies(pomFile, outputDir, ...flags) {
  execFileSync('mvn', ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${outputDir}`, ...flags], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}
