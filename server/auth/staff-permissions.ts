/**
 * What each staff role may do through the REST API, as data. Session-level permissions
 * (input, control, navigation) are in server/session/permissions.ts.
 */
import type { StaffRole } from './identity.ts';

export type StaffAction =
  'identity.read' | 'session.create' | 'session.delete' | 'session.observe' | 'session.list' | 'session.rejoin' | 'audit.read' | 'recording.read' | 'recording.delete' | 'cluster.read';

export const STAFF_PERMISSIONS: Readonly<Record<StaffAction, readonly StaffRole[]>> = {
  // Anyone with a staff role may ask who their token says they are.
  'identity.read': ['agent', 'supervisor', 'auditor'],
  'session.create': ['agent'],
  // The agent who started it, or a supervisor.
  'session.delete': ['agent', 'supervisor'],
  'session.observe': ['supervisor'],
  // Agents list their own sessions (the console's "my sessions"); supervisors list all.
  'session.list': ['agent', 'supervisor'],
  // A new session token for the agent who started the session (console reload, another tab).
  'session.rejoin': ['agent'],
  'audit.read': ['auditor'],
  'recording.read': ['auditor'],
  'recording.delete': ['auditor'],
  'cluster.read': ['supervisor', 'auditor'],
};

/** Who may end a session through the API: the agent who started it, or a supervisor. */
export function mayEnd(who: { sub: string; role: string }, createdBy: string): boolean {
  return who.role !== 'agent' || who.sub === createdBy;
}
