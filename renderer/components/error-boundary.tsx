// A render error becomes a readable message with a way back, never a blank window.
import { Component, type ReactNode } from 'react';

export class ErrorBoundary extends Component<{ children: ReactNode; label: string }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="error-message" role="alert">
        <div className="error-line"><strong>The {this.props.label} could not be shown:</strong> {this.state.error.message}</div>
        <button onClick={() => this.setState({ error: null })}>Try again</button>
      </div>
    );
  }
}
