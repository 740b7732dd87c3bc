import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** What the local cluster can leave on the host, in a form two snapshots can be compared by. */
export interface HostSnapshot {
  /** Executables of running processes that belong to the cluster (its tools, runc, pod processes). */
  processes: string[];
  mounts: string[];
  /** table/chain of every iptables and ip6tables chain, and the number of rules. */
  chains: string[];
  rules: number;
  ipsets: string[];
  interfaces: string[];
  /** interface and address of every IP address on the host. */
  addresses: string[];
  /** cgroup directories of pods (the kubelet's kubepods tree), every controller. */
  cgroups: string[];
  sysctls: Record<string, string>;
  /** Which of the host directories the components hard-code exist. */
  hostPaths: Record<string, boolean>;
}

async function lines(command: string, args: string[]): Promise<string[]> {
  try {
    return (await exec(command, args, { maxBuffer: 64 * 1024 * 1024 })).stdout.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function clusterProcesses(): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    try {
      const exe = await readlink(`/proc/${pid}/exe`);
      const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8');
      if (/\/tracebridge\/tools\/(kubernetes|etcd|containerd|coredns|kube-router|local-path-provisioner)-/.test(exe) || /runc$/.test(exe) || cgroup.includes('kubepods')) {
        found.push(exe);
      }
    } catch {
      // the process ended while we looked
    }
  }
  return found.sort();
}

async function kubepodsCgroups(): Promise<string[]> {
  const found: string[] = [];
  for (const controller of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const dir = `/sys/fs/cgroup/${controller}`;
    for (const entry of await readdir(dir).catch(() => [] as string[])) if (entry.startsWith('kubepods')) found.push(`${dir}/${entry}`);
  }
  return found.sort();
}

async function chains(): Promise<{ chains: string[]; rules: number }> {
  const names: string[] = [];
  let rules = 0;
  for (const command of ['iptables-save', 'ip6tables-save']) {
    let table = '';
    for (const line of await lines(command, [])) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':')) names.push(`${command.replace('-save', '')}/${table}/${line.slice(1).split(' ')[0]}`);
      else if (line.startsWith('-A ')) rules++;
    }
  }
  return { chains: names.sort(), rules };
}

export async function hostSnapshot(env: Record<string, string>): Promise<HostSnapshot> {
  const { chains: chainNames, rules } = await chains();
  const sysctls: Record<string, string> = {};
  for (const name of env.SYSCTLS!.split(' ')) {
    const path = `/proc/sys/${name.replaceAll('.', '/')}`;
    if (existsSync(path)) sysctls[name] = (await readFile(path, 'utf8')).trim();
  }
  return {
    processes: await clusterProcesses(),
    mounts: (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[4]!)
      .sort(),
    chains: chainNames,
    rules,
    ipsets: (await lines('ipset', ['list', '-n'])).sort(),
    interfaces: (await lines('ip', ['-o', 'link', 'show'])).map((line) => line.split(': ')[1]!.split('@')[0]!).sort(),
    addresses: (await lines('ip', ['-o', 'addr', 'show'])).map((line) => line.split(/\s+/).slice(1, 4).join(' ')).sort(),
    cgroups: await kubepodsCgroups(),
    sysctls,
    hostPaths: Object.fromEntries(env.HOST_PATHS!.split(' ').map((path) => [path, existsSync(path)])),
  };
}
